/*
** A frame's turn: entering and leaving states, the simple states (Pass,
** Choice, Wait, Succeed, Fail), a Task state's result, input and output
** processing (paths, templates, ResultPath) and the context object $$.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execution_int.h"

/* {====== context object ($$) */

orc_json *orci_obj_of(size_t n, const char *const *keys, orc_json **vals) {
  orc_json *o = orc_json_object_new(n);
  size_t i;
  if (o == NULL) {
    for (i = 0; i < n; i++)
      orc_json_unref(vals[i]);
    return NULL;
  }
  for (i = 0; i < n; i++)
    orc_json_object_set(o, i, orci_skey(keys[i]), vals[i]);
  return o;
}

/* $$.Execution of X (borrowed), made when first needed: an execution
** waiting on a task drops it (it is the same when made again). */
static orc_json *exec_ctx(orc_execution *X) {
  static const char *const ek[] = {"Id", "Input", "Name", "RoleArn",
                                   "StartTime"};
  orc_json *ev[5];
  char ts[40];
  if (X->ctx_execution) return X->ctx_execution;
  orci_format_timestamp(X->start_ms, ts);
  ev[0] = orci_skey(X->arn);
  ev[1] = orc_json_ref(X->input);
  ev[2] = orci_skey(X->name);
  ev[3] = orc_json_ref(X->E->role_json);
  ev[4] = orci_skey(ts);
  X->ctx_execution = orci_obj_of(5, ek, ev);
  return X->ctx_execution;
}

/* $$.StateMachine (borrowed): the same for every execution of M. */
static orc_json *machine_ctx(orc_machine *M) {
  static const char *const mk[] = {"Id", "Name"};
  orc_json *mv[2];
  if (M->ctx == NULL) {
    mv[0] = orci_skey(M->arn);
    mv[1] = orci_skey(M->name);
    M->ctx = orci_obj_of(2, mk, mv);
  }
  return M->ctx;
}

orc_json *orci_frame_context(orci_frame *F) {
  static const char *const sk[] = {"EnteredTime", "Name", "RetryCount"};
  static const char *const tk[] = {"Token"};
  static const char *const ck[] = {"Execution", "State", "StateMachine",
                                   "Task"};
  orc_execution *X = F->X;
  const orci_state *s = &F->B->states[F->state];
  orc_json *sv[3], *cv[4];
  char ts[40];
  size_t n = 3;
  if (F->ctx) return F->ctx;
  orci_format_timestamp(F->entered_ms, ts);
  sv[0] = orci_skey(ts);
  sv[1] = orc_json_ref(s->name_json);
  sv[2] = orc_json_int(F->retry_count);
  cv[0] = orc_json_ref(exec_ctx(F->sub ? F->sub : X));
  cv[1] = orci_obj_of(3, sk, sv);
  cv[2] = orc_json_ref(machine_ctx(X->M));
  if (F->token[0]) {
    orc_json *tv = orci_skey(F->token);
    cv[3] = orci_obj_of(1, tk, &tv);
    n = 4;
  }
  F->ctx = orci_obj_of(n, ck, cv);
  return F->ctx;
}

/* "$name": the innermost scope first; a Map's or Parallel's children see
** the variables of the scopes around them, read-only. */
orc_json *orci_frame_var(const orci_frame *F, const char *name, size_t len) {
  for (; F; F = F->parent) {
    orc_json *v = F->vars ? orc_json_object_find(F->vars, name, len) : NULL;
    if (v) return v;
  }
  return NULL;
}

static orc_json *var_lookup(void *ud, const char *name, size_t len) {
  return orci_frame_var((const orci_frame *)ud, name, len);
}

static orc_json *context_of(void *ud) {
  return orci_frame_context((orci_frame *)ud);
}

void orci_frame_env(orci_frame *F, orci_env *env, orc_json *input) {
  env->input = input;
  env->context = F->ctx; /* built by context_of when a path reads "$$" */
  env->get_context = context_of;
  env->variable = var_lookup;
  env->ud = F;
  env->random = orci_env_random;
}

/* }====== */
char *orci_runtime_cause(orci_frame *F, const char *fmt, ...) {
  const orci_state *s = &F->B->states[F->state];
  char head[256], *out;
  va_list ap;
  int hn, dn;
  hn = snprintf(head, sizeof head,
                "An error occurred while executing the state '%s' (entered "
                "at the event id #%lld). ",
                s->name, (long long)F->entered_id);
  if (hn < 0) return NULL;
  if ((size_t)hn >= sizeof head) hn = (int)sizeof head - 1; /* truncated */
  va_start(ap, fmt);
  dn = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (dn < 0) return NULL;
  /* the engine's string: strlen(out) + 1 bytes exactly (orci_strfree) */
  out = (char *)orci_malloc(F->X->E, (size_t)hn + (size_t)dn + 1);
  if (out == NULL) return NULL;
  memcpy(out, head, (size_t)hn);
  va_start(ap, fmt);
  vsnprintf(out + hn, (size_t)dn + 1, fmt, ap);
  va_end(ap);
  return out;
}

/* }====== */

/* {====== input and output processing */

typedef struct failure {
  const char *error; /* static error name */
  char *cause;       /* owned */
} failure;

char *orci_compact(orc_json *v) {
  char *s = orc_json_print(v, 0, NULL);
  return s ? s : strdup("?");
}

/* A value as Step Functions quotes it in causes: strings bare, the rest as
** orci_compact JSON. Returns owned text. */
char *orci_raw_text(orc_json *v) {
  if (orc_json_type_of(v) == ORC_JSON_STRING)
    return strdup(orc_json_string_value(v, NULL));
  return orci_compact(v);
}

/* InputPath / OutputPath. Returns an owned value, or NULL with f set. */
orc_json *orci_apply_path(orci_frame *F, orci_path *p, int is_null,
                          orc_json *in, orci_failure *f) {
  orci_env env;
  orc_json *out = NULL;
  if (is_null) return orc_json_object_new(0); /* a null path gives {} */
  if (p == NULL) return orc_json_ref(in);
  orci_frame_env(F, &env, in);
  if (orci_path_eval(p, &env, &out) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        orci_runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return NULL;
  }
  return out;
}

/* Evaluate a payload template against input. */
orc_json *orci_eval_tmpl(orci_frame *F, const orci_tmpl *t, orc_json *in,
                         orci_failure *f) {
  orci_env env;
  orc_json *out = NULL;
  size_t i;
  switch (t->kind) {
  case ORCI_T_CONST:
    return orc_json_ref(t->value);
  case ORCI_T_JSONATA:
    return orci_query_leaf(F, t, f);
  case ORCI_T_PATH:
    orci_frame_env(F, &env, in);
    if (orci_path_eval(t->path, &env, &out) != ORC_OK) {
      char *text = orci_compact(orci_path_root(t->path) == ORCI_ROOT_CONTEXT
                                    ? orci_frame_context(F)
                                    : in);
      f->error = "States.Runtime";
      f->cause = orci_runtime_cause(F,
                                    "The JSONPath '%s' specified for the field "
                                    "'%s' could not be found in the input '%s'",
                                    orci_path_text(t->path), t->field, text);
      free(text);
      return NULL;
    }
    return out;
  case ORCI_T_INTRINSIC: {
    char err[64], cause[1024];
    orci_frame_env(F, &env, in);
    if (orci_intrinsic_eval(t->fn, &env, &out, err, sizeof err, cause,
                            sizeof cause) != ORC_OK) {
      f->error = strcmp(err, "States.Runtime") == 0 ? "States.Runtime"
                                                    : "States.IntrinsicFailure";
      f->cause = orci_runtime_cause(F, "%s", cause);
      return NULL;
    }
    return out;
  }
  case ORCI_T_OBJECT:
    out = orc_json_object_new(t->n);
    if (out == NULL) return NULL;
    for (i = 0; i < t->n; i++) {
      orc_json *v = orci_eval_tmpl(F, t->items[i], in, f);
      if (v == NULL) {
        orc_json_unref(out);
        return NULL;
      }
      orc_json_object_set(out, i, orc_json_ref(t->keys[i]), v);
    }
    return out;
  default: /* ORCI_T_ARRAY */
    out = orc_json_array_new(t->n);
    if (out == NULL) return NULL;
    for (i = 0; i < t->n; i++) {
      orc_json *v = orci_eval_tmpl(F, t->items[i], in, f);
      if (v == NULL) {
        orc_json_unref(out);
        return NULL;
      }
      orc_json_array_set(out, i, v);
    }
    return out;
  }
}

/* ResultPath: place result into input. */
orc_json *orci_apply_result_path(orci_frame *F, orci_path *p, int discard,
                                 orc_json *in, orc_json *result,
                                 orci_failure *f) {
  char msg[512];
  orc_json *out = NULL;
  if (discard) return orc_json_ref(in);
  if (p == NULL) return orc_json_ref(result);
  if (orci_path_set(p, in, result, &out, msg, sizeof msg) != ORC_OK) {
    /* the name AWS reports (the docs' States.ResultPathMatchFailure is
    ** not what executions record) */
    f->error = "States.ReferencePathConflict";
    f->cause = orci_runtime_cause(F, "%s", msg);
    return NULL;
  }
  return out;
}

/* }====== */
/* {====== states */

void orci_fail_frame(orci_frame *F, const char *error, const char *cause) {
  if (F->parent) {
    orci_child_failed(F, error, cause); /* frees F */
    return;
  }
  orci_finish(F->X, ORC_STATUS_FAILED, NULL, error, cause, F->last_event);
  orci_attach_replay(F);
}

/* Leave the current state with output: Exited event, then the next state
** (or the end of the execution). */
/* Evaluate an Assign template with $ = input into F->assigned: 0, or -1
** with f set. Values see the variables as they were before this state. */

int orci_eval_assign(orci_frame *F, const orci_tmpl *assign, orc_json *in,
                     orci_failure *f) {
  orc_json_unref(F->assigned);
  F->assigned = NULL;
  if (assign == NULL) return 0;
  F->assigned = orci_eval_tmpl(F, assign, in, f);
  return F->assigned ? 0 : -1;
}

/* Merge the state's assigned variables into the frame's scope, and return
** them as {name: JSON text} for the Exited event (or NULL). */
static orc_json *apply_assigned(orci_frame *F) {
  orc_json *a = F->assigned, *old = F->vars, *merged, *texts;
  size_t i, k, n, na;
  F->assigned = NULL;
  if (a == NULL) return NULL;
  na = orc_json_len(a);
  n = old ? orc_json_len(old) : 0;
  merged = orc_json_object_new(n + na);
  texts = orc_json_object_new(na);
  if (merged == NULL || texts == NULL) {
    orc_json_unref(merged);
    orc_json_unref(texts);
    orc_json_unref(a);
    return NULL;
  }
  for (i = 0, k = 0; i < n; i++) { /* the old ones not reassigned */
    orc_json *key = orc_json_object_key(old, i);
    size_t kl;
    const char *ks = orc_json_string_value(key, &kl);
    if (orc_json_object_find(a, ks, kl)) continue;
    orc_json_object_set(merged, k++, orc_json_ref(key),
                        orc_json_ref(orc_json_object_value(old, i)));
  }
  for (i = 0; i < na; i++) {
    size_t tl;
    char *text = orc_json_print(orc_json_object_value(a, i), 0, &tl);
    orc_json_object_set(merged, k++, orc_json_ref(orc_json_object_key(a, i)),
                        orc_json_ref(orc_json_object_value(a, i)));
    orc_json_object_set(texts, i, orc_json_ref(orc_json_object_key(a, i)),
                        text ? orc_json_string(text, tl) : NULL);
    orc_free(text);
  }
  merged->n = k; /* members past k were never set */
  orc_json_unref(old);
  orc_json_unref(a);
  F->vars = merged;
  return texts;
}

/* Step Functions' cause for a result over the payload limit (owned). */
static char *data_limit_cause(orc_engine *E, const char *who) {
  return orci_strfmt(E,
                     "The state/task '%s' returned a result with a size "
                     "exceeding the maximum number of bytes service limit.",
                     who);
}

void orci_exit_state(orci_frame *F, orc_json *output, int next) {
  if (output != F->input && F->X->E->cfg.max_payload_bytes &&
      orci_json_size(output) > F->X->E->cfg.max_payload_bytes) {
    /* every state's output, not only a task's result (a Pass's Result,
    ** Parameters that copy a large value) */
    orc_engine *E = F->X->E;
    char *cause = data_limit_cause(E, F->B->states[F->state].name);
    orc_json_unref(output);
    orci_handle_error(F, "States.DataLimitExceeded", cause);
    orci_strfree(E, cause);
    return;
  }
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orc_json *assigned = apply_assigned(F);
  orc_json *details =
      assigned ? orci_state_details(E, s, K_OUTPUT, output) : NULL;
  if (assigned && details) { /* add assignedVariables to the details */
    size_t i, n = orc_json_len(details);
    orc_json *d = orc_json_object_new(n + 2), *flag = orc_json_object_new(1);
    if (d && flag) {
      for (i = 0; i < n; i++)
        orc_json_object_set(d, i, orc_json_ref(orc_json_object_key(details, i)),
                            orc_json_ref(orc_json_object_value(details, i)));
      orc_json_object_set(d, n, orci_skey("assignedVariables"), assigned);
      orc_json_object_set(flag, 0, orc_json_ref(E->keys[K_TRUNCATED]),
                          orc_json_bool(0));
      orc_json_object_set(d, n + 1, orci_skey("assignedVariablesDetails"),
                          flag);
      orc_json_unref(details);
      details = d;
      assigned = NULL;
    } else {
      orc_json_unref(d);
      orc_json_unref(flag);
    }
  }
  orc_json_unref(assigned);
  if (details)
    F->last_event = orci_add_event(ORCI_FRAME_HISTORY(F), F->last_event,
                                   EV_STATE_EXITED + s->type, details);
  else
    F->last_event = orci_add_event_ex(ORCI_FRAME_HISTORY(F), F->last_event,
                                      EV_STATE_EXITED + s->type, NULL, s,
                                      orc_json_ref(output));
  orci_attach_replay(F);
  orc_json_unref(F->input);
  orc_json_unref(F->effective);
  F->effective = NULL;
  orc_json_unref(F->ctx);
  F->ctx = NULL;
  orci_frame_free_attempts(F);
  F->retry_count = 0;
  if (next < 0) {
    F->input = NULL;
    if (F->parent) {
      orci_child_done(F, output); /* takes output; frees F */
      return;
    }
    orci_finish(X, ORC_STATUS_SUCCEEDED, output, NULL, NULL, F->last_event);
    orc_json_unref(output);
    return;
  }
  F->input = output;
  F->state = next;
  F->phase = PH_ENTER;
  orci_enqueue(F);
}

void orci_state_result(orci_frame *F, orc_json *result) {
  const orci_state *s = &F->B->states[F->state];
  orci_failure f = {NULL, NULL};
  orc_json *sel, *out, *final;
  if (s->jsonata) {
    orci_query_exit(F, s->assign, s->output, result, NULL, s->next);
    orc_json_unref(result);
    return;
  }
  sel = s->result_selector ? orci_eval_tmpl(F, s->result_selector, result, &f)
                           : orc_json_ref(result);
  orc_json_unref(result);
  if (sel == NULL || orci_eval_assign(F, s->assign, sel, &f) < 0) {
    orc_json_unref(sel);
    orci_fail_with(F, &f);
    return;
  }
  out = orci_apply_result_path(F, s->result_path, s->result_discard, F->input,
                               sel, &f);
  orc_json_unref(sel);
  if (out == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  final = orci_apply_path(F, s->output_path, s->output_null, out, &f);
  orc_json_unref(out);
  if (final == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  orci_exit_state(F, final, s->next);
}

/* An error in the current state: Retry, Catch, or the end. */
size_t orci_json_size(const orc_json *v) {
  return orci_json_text_size(v); /* counted, not printed */
}

static void task_done(orci_frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  orc_json *result = F->result;
  F->result = NULL;
  if (!F->task_ok) {
    char *error = F->error, *cause = F->cause;
    orc_json *d =
        lambda
            ? orci_kv_object(E, 2, K_ERROR, orci_str_or_null(error), K_CAUSE,
                             orci_str_or_null(cause))
            : orci_kv_object(E, 4, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                             K_RESOURCE, orci_skey(s->resource_name), K_ERROR,
                             orci_str_or_null(error), K_CAUSE,
                             orci_str_or_null(cause));
    F->error = F->cause = NULL;
    F->last_event =
        orci_add_event(ORCI_FRAME_HISTORY(F), F->last_event,
                       lambda ? EV_LAMBDA_FAILED : EV_TASK_FAILED, d);
    orci_handle_error(F, error ? error : "States.TaskFailed", cause);
    orci_strfree(E, error);
    orci_strfree(E, cause);
    return;
  }
  if (E->cfg.max_payload_bytes &&
      orci_json_size(result) > E->cfg.max_payload_bytes) {
    /* the cause names the function for a Lambda ARN, the service for an
    ** integration (arn:aws:states:::lambda:invoke: 'lambda'), else the
    ** state, as Step Functions records it */
    char *cause = data_limit_cause(E, lambda ? s->resource
                                      : s->resource_kind == ORCI_RES_SERVICE
                                          ? s->resource_type
                                          : s->name);
    orc_json_unref(result);
    F->last_event = orci_add_event(
        ORCI_FRAME_HISTORY(F), F->last_event,
        lambda ? EV_LAMBDA_FAILED : EV_TASK_FAILED,
        lambda
            ? orci_kv_object(E, 2, K_ERROR,
                             orci_skey("States.DataLimitExceeded"), K_CAUSE,
                             orci_str_or_null(cause))
            : orci_kv_object(E, 4, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                             K_RESOURCE, orci_skey(s->resource_name), K_ERROR,
                             orci_skey("States.DataLimitExceeded"), K_CAUSE,
                             orci_str_or_null(cause)));
    orci_handle_error(F, "States.DataLimitExceeded", cause);
    orci_strfree(E, cause);
    return;
  }
  F->last_event =
      orci_add_event_ex(ORCI_FRAME_HISTORY(F), F->last_event,
                        lambda ? EV_LAMBDA_SUCCEEDED : EV_TASK_SUCCEEDED, NULL,
                        s, orc_json_ref(result));
  orci_state_result(F, result);
}

/* Seconds or a timestamp from a Wait state's fields. */
static int wait_due(orci_frame *F, const orci_state *s, orc_json *in,
                    int64_t *due, orci_failure *f) {
  orc_engine *E = F->X->E;
  orci_env env;
  orc_json *v = NULL;
  int64_t now = orc_engine_now(E);
  if (s->wait_seconds >= 0) {
    *due = now + s->wait_seconds * 1000;
    return 0;
  }
  if (s->wait_timestamp) {
    *due = s->wait_timestamp_ms;
    return 0;
  }
  orci_frame_env(F, &env, in);
  if (s->seconds_path) {
    const char *pt = orci_path_text(s->seconds_path);
    char *text;
    if (orci_path_eval(s->seconds_path, &env, &v) != ORC_OK) {
      f->error = "States.Runtime";
      f->cause = orci_runtime_cause(F,
                                    "The SecondsPath parameter does not "
                                    "reference an input value: %s",
                                    pt);
      return -1;
    }
    text = orci_raw_text(v);
    if (orc_json_type_of(v) != ORC_JSON_INT) {
      f->error = "States.Runtime";
      f->cause =
          orci_runtime_cause(F,
                             "The SecondsPath parameter cannot be parsed "
                             "as a long value: %s == %s",
                             pt, text);
    } else if (orc_json_int_value(v) < 0) {
      f->error = "States.Runtime";
      f->cause = orci_runtime_cause(F,
                                    "The SecondsPath parameter references a "
                                    "negative value: %s == %s",
                                    pt, text);
    } else {
      *due = now + orc_json_int_value(v) * 1000;
    }
    free(text);
    orc_json_unref(v);
    return f->error ? -1 : 0;
  }
  if (orci_path_eval(s->timestamp_path, &env, &v) != ORC_OK) {
    f->error = "States.Runtime";
    f->cause = orci_runtime_cause(F,
                                  "The TimestampPath parameter does not "
                                  "reference an input value: %s",
                                  orci_path_text(s->timestamp_path));
    return -1;
  }
  if (!orci_ts_of(v, due)) {
    char *text = orci_raw_text(v);
    f->error = "States.Runtime";
    f->cause = orci_runtime_cause(F,
                                  "The TimestampPath parameter does not "
                                  "reference a valid ISO-8601 extended offset "
                                  "date-time format string: %s == %s",
                                  orci_path_text(s->timestamp_path), text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  orc_json_unref(v);
  return 0;
}

/* A Fail state's Error or Cause from its literal, path or intrinsic: 0 with
** *out owned (the engine's string; NULL when the field is absent), or -1
** with f set. */
static int fail_field(orci_frame *F, const char *field, const char *lit,
                      orci_path *p, orci_intrinsic *fn, char **out,
                      orci_failure *f) {
  orci_env env;
  orc_json *v = NULL;
  *out = NULL;
  if (lit) {
    *out = orci_strdup(F->X->E, lit);
    return 0;
  }
  if (p == NULL && fn == NULL) return 0;
  orci_frame_env(F, &env, F->input);
  if (p) {
    if (orci_path_eval(p, &env, &v) != ORC_OK) {
      char *text = orci_compact(F->input);
      f->error = "States.Runtime";
      f->cause = orci_runtime_cause(F,
                                    "The JSONPath '%s' specified for the field "
                                    "'%s' could not be found in the input '%s'",
                                    orci_path_text(p), field, text);
      free(text);
      return -1;
    }
  } else {
    char e[64], c[1024];
    if (orci_intrinsic_eval(fn, &env, &v, e, sizeof e, c, sizeof c) != ORC_OK) {
      f->error = strcmp(e, "States.Runtime") == 0 ? "States.Runtime"
                                                  : "States.IntrinsicFailure";
      f->cause = orci_runtime_cause(F, "%s", c);
      return -1;
    }
  }
  *out = orci_str_adopt(F->X->E, orci_raw_text(v));
  orc_json_unref(v);
  return 0;
}
static void enter_state(orci_frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  orc_json *eff, *res, *out, *final;
  orci_failure f = {NULL, NULL};
  size_t i;
  F->entered_ms = orc_engine_now(E);
  F->token[0] = '\0';
  X->transitions++;
  if (F->sub) F->sub->transitions++;
  if (s->type == ORCI_ST_TASK) orci_make_token(E, F->token);
  F->entered_id = orci_add_event_ex(ORCI_FRAME_HISTORY(F), F->last_event,
                                    EV_STATE_ENTERED + s->type, NULL, s,
                                    orc_json_ref(F->input));
  F->last_event = F->entered_id;
  if (s->jsonata) {
    orci_query_enter(F);
    return;
  }
  if (s->type == ORCI_ST_FAIL) {
    char *error = NULL, *cause = NULL;
    if (fail_field(F, "ErrorPath", s->error, s->error_path, s->error_fn, &error,
                   &f) < 0 ||
        fail_field(F, "CausePath", s->cause, s->cause_path, s->cause_fn, &cause,
                   &f) < 0) {
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
  eff = orci_apply_path(F, s->input_path, s->input_null, F->input, &f);
  if (eff == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  if (s->parameters && s->type != ORCI_ST_MAP) {
    orc_json *p = orci_eval_tmpl(F, s->parameters, eff, &f);
    orc_json_unref(eff);
    if (p == NULL) {
      orci_fail_with(F, &f);
      return;
    }
    eff = p;
  }
  switch (s->type) {
  case ORCI_ST_TASK:
    F->effective = eff;
    orci_task_start(F);
    return;
  case ORCI_ST_PARALLEL:
  case ORCI_ST_MAP:
    F->effective = eff;
    orci_group_start(F);
    return;
  case ORCI_ST_PASS:
    res = s->result ? orc_json_ref(s->result) : orc_json_ref(eff);
    orc_json_unref(eff);
    if (orci_eval_assign(F, s->assign, res, &f) < 0) {
      orc_json_unref(res);
      orci_fail_with(F, &f);
      return;
    }
    out = orci_apply_result_path(F, s->result_path, s->result_discard, F->input,
                                 res, &f);
    orc_json_unref(res);
    break;
  case ORCI_ST_CHOICE: {
    int next = -1;
    int pick = orci_choice_pick(F, s, eff, &f); /* the host's; -1: none */
    if (X->status != ORC_STATUS_RUNNING) {      /* the hook stopped it */
      orc_json_unref(eff);
      orci_strfree(E, f.cause);
      return;
    }
    for (i = 0; i < s->nchoices; i++) {
      int m = pick == -1 ? orci_rule_eval(F, s->choices[i], eff, &f)
              : pick < 0 ? -1 /* the hook failed: f says why */
                         : (size_t)pick == i;
      if (m < 0) {
        orc_json_unref(eff);
        orci_fail_with(F, &f);
        return;
      }
      if (m) {
        next = s->choices[i]->next;
        if (orci_eval_assign(F, s->choices[i]->assign, eff, &f) < 0) {
          orc_json_unref(eff);
          orci_fail_with(F, &f);
          return;
        }
        break;
      }
    }
    if (next < 0) {
      next = s->default_next;
      if (next >= 0 && orci_eval_assign(F, s->assign, eff, &f) < 0) {
        orc_json_unref(eff);
        orci_fail_with(F, &f);
        return;
      }
    }
    if (next < 0) {
      orc_json_unref(eff);
      f.error = "States.NoChoiceMatched";
      f.cause = orci_runtime_cause(F, "No Matches!");
      orci_fail_with(F, &f);
      return;
    }
    final = orci_apply_path(F, s->output_path, s->output_null, eff, &f);
    orc_json_unref(eff);
    if (final == NULL) {
      orci_fail_with(F, &f);
      return;
    }
    orci_exit_state(F, final, next);
    return;
  }
  case ORCI_ST_WAIT: {
    int64_t due;
    if (wait_due(F, s, eff, &due, &f) < 0) {
      orc_json_unref(eff);
      orci_fail_with(F, &f);
      return;
    }
    F->effective = eff;
    F->phase = PH_TIMER;
    if (orci_timer_set(&E->sched, due, orci_wake_fired, F, &F->t_wake) !=
        ORC_OK)
      orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  default: /* Succeed */
    out = eff;
    break;
  }
  if (out == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  final = orci_apply_path(F, s->output_path, s->output_null, out, &f);
  orc_json_unref(out);
  if (final == NULL) {
    orci_fail_with(F, &f);
    return;
  }
  orci_exit_state(F, final, s->next);
}

/* A Wait state's end or a retry's back-off. */
void orci_wake_fired(orc_engine *E, void *data) {
  orci_frame *F = (orci_frame *)data;
  (void)E;
  if (F->X->status != ORC_STATUS_RUNNING || F->phase != PH_TIMER) return;
  F->phase = PH_WAIT_DONE;
  orci_enqueue(F);
}

/* Run one turn of a frame. */
void orci_frame_run(orci_runnable *r) {
  orci_frame *F = ORCI_FRAME_OF(r);
  orc_execution *X = F->X;
  const orci_state *s;
  orci_failure f = {NULL, NULL};
  orc_json *final;
  if (X->status != ORC_STATUS_RUNNING) return;
  if (X->E->cfg.max_history_events &&
      X->total_events >= X->E->cfg.max_history_events) {
    char cause[160];
    snprintf(cause, sizeof cause,
             "The execution reached the limit of %zu history events.",
             X->E->cfg.max_history_events);
    orci_fail_frame(F, "States.Runtime", cause);
    return;
  }
  s = &F->B->states[F->state];
  switch (F->phase) {
  case PH_ENTER:
    enter_state(F);
    break;
  case PH_TASK_START:
    orci_task_start(F);
    break;
  case PH_TASK_DONE:
    task_done(F);
    break;
  case PH_GROUP_DONE:
    orci_group_finish(F);
    break;
  case PH_GROUP_MORE:
    F->phase = PH_GROUP_WAIT;
    orci_group_spawn(F, F->G->last_event);
    break;
  case PH_WAIT_DONE:
    if (s->type == ORCI_ST_WAIT && s->jsonata) {
      orci_query_exit(F, s->assign, s->output, NULL, NULL, s->next);
    } else if (s->type == ORCI_ST_WAIT) {
      final = orci_eval_assign(F, s->assign, F->effective, &f) < 0
                  ? NULL
                  : orci_apply_path(F, s->output_path, s->output_null,
                                    F->effective, &f);
      if (final == NULL)
        orci_fail_with(F, &f);
      else
        orci_exit_state(F, final, s->next);
    } else if (s->type == ORCI_ST_MAP || s->type == ORCI_ST_PARALLEL) {
      orci_group_start(F); /* a retry: a new ...StateStarted */
    } else {               /* a retry's back-off ended */
      orci_task_start(F);
    }
    break;
  default:
    break;
  }
}

/* }====== */
