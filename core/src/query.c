/*
** JSONata states at run time: "{% %}" expressions evaluated with $states
** and the workflow variables, each state type's JSONata flow (Arguments,
** Output, Assign, Condition, Items, expression-valued fields) and Step
** Functions' States.QueryEvaluationError with its EvaluationFailed event.
*/
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execution_int.h"

#define QERR "States.QueryEvaluationError"

/* {====== evaluation */

static const orc_json *q_var(void *ud, const char *name, size_t len) {
  return orci_frame_var((orci_frame *)ud, name, len);
}

/* Record the EvaluationFailed event and set f: "An error occurred while
** executing the state 'S' (entered at the event id #N). <what>". */
void orci_query_fail(orci_frame *F, const char *location, orci_failure *f,
                     const char *fmt, ...) {
  orc_engine *E = F->X->E;
  const orci_state *s = &F->B->states[F->state];
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  f->error = QERR;
  f->cause = orci_runtime_cause(F, "%s", what);
  F->last_event =
      orci_add_event(ORCI_FRAME_HISTORY(F), F->last_event, EV_EVALUATION_FAILED,
                     orci_kv_object(E, 4, K_ERROR, orci_skey(QERR), K_CAUSE,
                                    orci_str_or_null(f->cause), K_LOCATION,
                                    location ? orci_skey(location) : NULL,
                                    K_STATE, orc_json_ref(s->name_json)));
}

/* $states for an expression: input, context (when it reads it), result
** and errorOutput (where the state has them). */
static orc_json *states_of(orci_frame *F, int qflags) {
  orc_engine *E = F->X->E;
  orc_json *b,
      *st = orci_kv_object(E, 4, K_INPUT, orc_json_ref(F->input), K_CONTEXT,
                           (qflags & ORCI_Q_CONTEXT)
                               ? orc_json_ref(orci_frame_context(F))
                               : NULL,
                           K_RESULT, orc_json_ref(F->q_result), K_ERROR_OUTPUT,
                           orc_json_ref(F->q_error));
  if (st == NULL) return NULL;
  b = orc_json_object_new(1);
  if (b == NULL) {
    orc_json_unref(st);
    return NULL;
  }
  orc_json_object_set(b, 0, orc_json_ref(E->keys[K_STATES]), st);
  return b;
}

static const char *q_text(const orci_tmpl *t) {
  return orc_jsonata_text(t->expr, NULL);
}

/* Evaluate one expression: an owned value, or NULL with f set (and the
** EvaluationFailed event recorded). *fn is set when the result is a
** function (NULL is returned then, without a failure). */
static orc_json *q_eval(orci_frame *F, const orci_tmpl *t, int *fn,
                        orci_failure *f) {
  orc_engine *E = F->X->E;
  orc_jsonata_env env;
  orc_jsonata_limits lim;
  orc_jsonata_error je;
  orc_json *out = NULL, *bind = states_of(F, t->qflags);
  int rc;
  *fn = 0;
  if (bind == NULL) {
    f->error = "States.Runtime";
    f->cause = orci_strdup(E, "out of memory");
    return NULL;
  }
  memset(&lim, 0, sizeof lim);
  lim.now_ms = (double)orc_engine_now(E); /* the engine's clock */
  if (t->qflags & ORCI_Q_RANDOM) lim.seed = orci_env_random(F) | 1u;
  memset(&env, 0, sizeof env);
  env.bindings = bind;
  env.resolve = q_var;
  env.ud = F;
  env.lim = &lim;
  /* no root document: AWS refuses a top-level "$", and binds $states */
  rc = orc_jsonata_eval_env(t->expr, NULL, &env, &out, &je);
  orc_json_unref(bind);
  if (rc == ORC_ENOMEM) {
    f->error = "States.Runtime";
    f->cause = orci_strdup(E, "out of memory");
    return NULL;
  }
  if (rc != ORC_OK) {
    orci_query_fail(F, t->field, f,
                    "The JSONata expression '%s' specified for the field "
                    "'%s' threw an error during evaluation. %s: %s",
                    q_text(t), t->field, je.code, je.message);
    return NULL;
  }
  *fn = env.is_function;
  return out;
}

/* A path of names over objects read in place (t->qroot): the value, or
** NULL when evaluation must decide (a missing member, an array on the
** way, no such root here). */
static orc_json *q_fast(orci_frame *F, const orci_tmpl *t) {
  const char *p = t->qpath;
  orc_json *v;
  size_t i;
  switch (t->qroot) {
  case ORCI_QR_INPUT:
    v = F->input;
    break;
  case ORCI_QR_RESULT:
    v = F->q_result;
    break;
  case ORCI_QR_ERROR:
    v = F->q_error;
    break;
  case ORCI_QR_CONTEXT:
    v = orci_frame_context(F);
    break;
  default: /* ORCI_QR_VAR */
    v = orci_frame_var(F, p, strlen(p));
    p += strlen(p) + 1;
    break;
  }
  for (i = 0; i < t->nq; i++) {
    size_t l = strlen(p);
    if (v == NULL || orc_json_type_of(v) != ORC_JSON_OBJECT) return NULL;
    v = orc_json_object_find(v, p, l);
    p += l + 1;
  }
  if (v == NULL) return NULL;
  if (orc_json_type_of(v) == ORC_JSON_FLOAT) { /* as JSONata gives it */
    double d = orc_json_number(v);
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
      return orc_json_int((int64_t)d);
  }
  return orc_json_ref(v);
}

/* "a OP b" over two numbers read in place: the value, or NULL when the
** evaluator must decide (anything but two finite numbers). */
static orc_json *q_fast_op(orci_frame *F, const orci_tmpl *t) {
  orc_json *a = t->items[0]->kind == ORCI_T_CONST
                    ? orc_json_ref(t->items[0]->value)
                    : q_fast(F, t->items[0]);
  orc_json *b = t->items[1]->kind == ORCI_T_CONST
                    ? orc_json_ref(t->items[1]->value)
                    : q_fast(F, t->items[1]);
  orc_json *r = NULL;
  double x, y, z = 0;
  int num = a && b &&
            (orc_json_type_of(a) == ORC_JSON_INT ||
             orc_json_type_of(a) == ORC_JSON_FLOAT) &&
            (orc_json_type_of(b) == ORC_JSON_INT ||
             orc_json_type_of(b) == ORC_JSON_FLOAT);
  if (num) {
    x = orc_json_number(a);
    y = orc_json_number(b);
    switch (t->qop) {
    case '+':
      z = x + y;
      break;
    case '-':
      z = x - y;
      break;
    case '*':
      z = x * y;
      break;
    case '/':
      z = x / y;
      break;
    case '<':
      r = orc_json_bool(x < y);
      break;
    case 'l':
      r = orc_json_bool(x <= y);
      break;
    case '>':
      r = orc_json_bool(x > y);
      break;
    case 'g':
      r = orc_json_bool(x >= y);
      break;
    case '=':
      r = orc_json_bool(x == y);
      break;
    default: /* '!' */
      r = orc_json_bool(x != y);
      break;
    }
    if (r == NULL && isfinite(z))
      r = z == floor(z) && fabs(z) < 9007199254740992.0
              ? orc_json_int((int64_t)z)
              : orc_json_float(z);
  }
  orc_json_unref(a);
  orc_json_unref(b);
  return r;
}

orc_json *orci_query_leaf(orci_frame *F, const orci_tmpl *t, orci_failure *f) {
  int fn;
  orc_json *v = t->qroot ? q_fast(F, t) : t->qop ? q_fast_op(F, t) : NULL;
  if (v) return v;
  v = q_eval(F, t, &fn, f);
  if (v == NULL && f->error == NULL)
    orci_query_fail(F, t->field, f,
                    fn ? "The JSONata expression '%s' specified for the field "
                         "'%s' returned an unsupported result type."
                       : "The JSONata expression '%s' specified for the field "
                         "'%s' returned nothing (undefined).",
                    q_text(t), t->field);
  return v;
}

static const char *type_name(const orc_json *v) {
  switch (orc_json_type_of(v)) {
  case ORC_JSON_NULL:
    return "null";
  case ORC_JSON_BOOL:
    return "boolean";
  case ORC_JSON_INT:
  case ORC_JSON_FLOAT:
    return "number";
  case ORC_JSON_STRING:
    return "string";
  case ORC_JSON_ARRAY:
    return "array";
  default:
    return "object";
  }
}

/* A field's value (a template, or an expression) checked against a JSON
** type: an owned value, or NULL with f set. */
static orc_json *q_typed(orci_frame *F, const orci_tmpl *t, orc_json_type want,
                         const char *want_name, orci_failure *f) {
  orc_json *v = orci_eval_tmpl(F, t, F->input, f);
  orc_json_type ty;
  char *text;
  if (v == NULL) return NULL;
  ty = orc_json_type_of(v);
  if (ty == want || (want == ORC_JSON_FLOAT && ty == ORC_JSON_INT)) return v;
  text = orci_compact(v);
  orci_query_fail(F, t->field, f,
                  "The JSONata expression '%s' specified for the field '%s' "
                  "returned an unexpected result type. Expected '%s', but was "
                  "'%s' for value: %s",
                  t->kind == ORCI_T_JSONATA ? q_text(t) : "", t->field,
                  want_name, type_name(v), text);
  free(text);
  orc_json_unref(v);
  return NULL;
}

/* An integer field given as an expression, in [lo, hi]: 0, or -1 with f
** set. */
int orci_query_int(orci_frame *F, const orci_tmpl *t, int64_t lo, int64_t hi,
                   int64_t *out, orci_failure *f) {
  orc_json *v = q_typed(F, t, ORC_JSON_FLOAT, "number", f);
  double d;
  if (v == NULL) return -1;
  d = orc_json_number(v);
  if (d != floor(d) || d < (double)lo || d > (double)hi) {
    char *text = orci_compact(v);
    orci_query_fail(F, t->field, f,
                    "The JSONata expression '%s' specified for the field '%s' "
                    "returned an unexpected result type. Expected an integer "
                    "from %lld to %lld, but was: %s",
                    q_text(t), t->field, (long long)lo, (long long)hi, text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = (int64_t)d;
  orc_json_unref(v);
  return 0;
}

/* A number field given as an expression, in [lo, hi]. */
int orci_query_num(orci_frame *F, const orci_tmpl *t, double lo, double hi,
                   double *out, orci_failure *f) {
  orc_json *v = q_typed(F, t, ORC_JSON_FLOAT, "number", f);
  double d;
  if (v == NULL) return -1;
  d = orc_json_number(v);
  if (d < lo || d > hi) {
    char *text = orci_compact(v);
    orci_query_fail(F, t->field, f,
                    "The JSONata expression '%s' specified for the field '%s' "
                    "returned an unexpected result type. Expected a number "
                    "from %g to %g, but was: %s",
                    q_text(t), t->field, lo, hi, text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = d;
  orc_json_unref(v);
  return 0;
}

/* A Map's items in a JSONata state: Items, or the state input. */
orc_json *orci_query_items(orci_frame *F, orci_failure *f) {
  const orci_state *s = &F->B->states[F->state];
  orc_json *v;
  char *text;
  if (s->q_items) {
    int fn = 0;
    if (s->q_items->kind == ORCI_T_JSONATA) {
      v = q_eval(F, s->q_items, &fn, f);
      if (v == NULL && f->error == NULL) {
        orci_query_fail(F, "Items", f,
                        fn ? "The JSONata expression '%s' specified for the "
                             "field 'Items' returned an unsupported result "
                             "type."
                           : "The JSONata expression '%s' specified for the "
                             "field 'Items' returned nothing (undefined).",
                        q_text(s->q_items));
        return NULL;
      }
      if (v && orc_json_type_of(v) != ORC_JSON_ARRAY) {
        text = orci_compact(v);
        orci_query_fail(F, "Items", f,
                        "The JSONata expression '%s' specified for the field "
                        "'Items' returned an unexpected result type. "
                        "Expected 'array', but was '%s' for value: %s",
                        q_text(s->q_items), type_name(v), text);
        free(text);
        orc_json_unref(v);
        return NULL;
      }
      return v;
    }
    return orci_eval_tmpl(F, s->q_items, F->input, f);
  }
  if (orc_json_type_of(F->input) == ORC_JSON_ARRAY)
    return orc_json_ref(F->input);
  text = orci_compact(F->input);
  orci_query_fail(F, NULL, f, "Map state input must be an array but was: %s",
                  text);
  free(text);
  return NULL;
}

/* }====== */

/* {====== the states */

/* Assign and Output with $states.result = result (borrowed, may be NULL)
** and $states.errorOutput = error_output, then leave for next. The output
** defaults to the result, else the error output, else the input. */
void orci_query_exit(orci_frame *F, const orci_tmpl *assign,
                     const orci_tmpl *output, orc_json *result,
                     orc_json *error_output, int next) {
  orci_failure f = {NULL, NULL};
  orc_json *out;
  F->q_result = result;
  F->q_error = error_output;
  if (orci_eval_assign(F, assign, F->input, &f) < 0)
    out = NULL;
  else if (output)
    out = orci_eval_tmpl(F, output, F->input, &f);
  else
    out = orc_json_ref(result         ? result
                       : error_output ? error_output
                                      : F->input);
  F->q_result = F->q_error = NULL;
  if (out == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  orci_exit_state(F, out, next);
}

/* A Fail state's Error or Cause: literal or expression (a string). */
static int fail_text(orci_frame *F, const char *lit, const orci_tmpl *q,
                     char **out, orci_failure *f) {
  orc_json *v;
  *out = NULL;
  if (q == NULL) {
    *out = lit ? orci_strdup(F->X->E, lit) : NULL;
    return 0;
  }
  v = q_typed(F, q, ORC_JSON_STRING, "string", f);
  if (v == NULL) return -1;
  *out = orci_strdup(F->X->E, orc_json_string_value(v, NULL));
  orc_json_unref(v);
  return 0;
}

/* Choice: the first rule whose Condition is true (its Assign and Output),
** else Default (the state's Assign and Output). */
static void choice(orci_frame *F, const orci_state *s) {
  orci_failure f = {NULL, NULL};
  size_t i;
  int pick = orci_choice_pick(F, s, F->input, &f); /* the host's; -1: none */
  if (F->X->status != ORC_STATUS_RUNNING) {        /* the hook stopped it */
    orci_strfree(F->X->E, f.cause);
    return;
  }
  if (pick < -1) {
    orci_fail_with(F, &f);
    return;
  }
  for (i = 0; i < s->nchoices; i++) {
    const orci_rule *r = s->choices[i];
    orc_json *v;
    int yes;
    if (pick >= 0) {
      yes = (size_t)pick == i;
    } else if (r->condition->kind == ORCI_T_CONST) {
      yes = orc_json_is_true(r->condition->value);
    } else {
      v = q_typed(F, r->condition, ORC_JSON_BOOL, "boolean", &f);
      if (v == NULL) {
        orci_fail_with(F, &f);
        return;
      }
      yes = orc_json_is_true(v);
      orc_json_unref(v);
    }
    if (yes) {
      orci_query_exit(F, r->assign, r->output, NULL, NULL, r->next);
      return;
    }
  }
  if (s->default_next < 0) {
    f.error = "States.NoChoiceMatched";
    f.cause = orci_runtime_cause(F, "No Matches!");
    orci_fail_with(F, &f);
    return;
  }
  orci_query_exit(F, s->assign, s->output, NULL, NULL, s->default_next);
}

/* When a Wait state ends: 0 with *due, or -1 with f set. */
static int wait_due(orci_frame *F, const orci_state *s, int64_t *due,
                    orci_failure *f) {
  orc_json *v;
  int64_t secs;
  if (s->q_seconds) {
    if (orci_query_int(F, s->q_seconds, 0, 99999999, &secs, f) < 0) return -1;
    *due = orc_engine_now(F->X->E) + secs * 1000;
    return 0;
  }
  if (s->q_timestamp) {
    v = q_typed(F, s->q_timestamp, ORC_JSON_STRING, "string", f);
    if (v == NULL) return -1;
    if (!orci_ts_of(v, due)) {
      orci_query_fail(F, "Timestamp", f,
                      "The Timestamp field cannot be parsed as an ISO-8601 "
                      "extended offset date-time format string: %s",
                      orc_json_string_value(v, NULL));
      orc_json_unref(v);
      return -1;
    }
    orc_json_unref(v);
    return 0;
  }
  *due = s->wait_seconds >= 0 ? orc_engine_now(F->X->E) + s->wait_seconds * 1000
                              : s->wait_timestamp_ms;
  return 0;
}

/* A JSONata state entered (its Entered event recorded). */
void orci_query_enter(orci_frame *F) {
  orc_engine *E = F->X->E;
  const orci_state *s = &F->B->states[F->state];
  orci_failure f = {NULL, NULL};
  switch (s->type) {
  case ORCI_ST_FAIL: {
    char *error = NULL, *cause = NULL;
    if (fail_text(F, s->error, s->q_error, &error, &f) < 0 ||
        fail_text(F, s->cause, s->q_cause, &cause, &f) < 0) {
      orci_strfree(E, error);
      orci_fail_frame(F, f.error, f.cause);
      orci_strfree(E, f.cause);
      return;
    }
    orci_fail_frame(F, error, cause);
    orci_strfree(E, error);
    orci_strfree(E, cause);
    return;
  }
  case ORCI_ST_TASK:
  case ORCI_ST_PARALLEL:
  case ORCI_ST_MAP:
    F->effective = s->parameters
                       ? orci_eval_tmpl(F, s->parameters, F->input, &f)
                       : orc_json_ref(F->input);
    if (F->effective == NULL) {
      orci_fail_with(F, &f);
      return;
    }
    if (s->type == ORCI_ST_TASK)
      orci_task_start(F);
    else
      orci_group_start(F);
    return;
  case ORCI_ST_CHOICE:
    choice(F, s);
    return;
  case ORCI_ST_WAIT: {
    int64_t due;
    if (wait_due(F, s, &due, &f) < 0) {
      orci_fail_with(F, &f);
      return;
    }
    F->phase = PH_TIMER;
    if (orci_timer_set(&E->sched, due, orci_wake_fired, F, &F->t_wake) !=
        ORC_OK)
      orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  default: /* Pass, Succeed */
    orci_query_exit(F, s->assign, s->output, NULL, NULL, s->next);
    return;
  }
}

/* }====== */
