/*
** The execution history: the event-type table, appending events (with
** retention and the hooks), lazy details, and export in Step Functions'
** GetExecutionHistory shape.
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "execution_int.h"

/* {====== event types */

const char *const orci_key_names[K_COUNT] = {
    "name",        "input",    "output",    "inputDetails", "outputDetails",
    "error",       "cause",    "resource",  "resourceType", "region",
    "parameters",  "roleArn",  "truncated", "length",       "index",
    "mapRunArn",   "location", "state",     "context",      "result",
    "errorOutput", "states"};

const orci_state orci_start_marker;

static orc_json *lazy_started(orc_engine *E, const orci_event *ev);
static orc_json *lazy_state(orc_engine *E, const orci_event *ev);
static orc_json *lazy_lambda_scheduled(orc_engine *E, const orci_event *ev);
static orc_json *lazy_task_scheduled(orc_engine *E, const orci_event *ev);
static orc_json *lazy_task_started(orc_engine *E, const orci_event *ev);
static orc_json *lazy_lambda_succeeded(orc_engine *E, const orci_event *ev);
static orc_json *lazy_task_succeeded(orc_engine *E, const orci_event *ev);
static orc_json *lazy_iteration(orc_engine *E, const orci_event *ev);

#define STATE_EVENTS(kind, key, payload)                                       \
  {"Pass" kind, key, lazy_state, payload},                                     \
      {"Task" kind, key, lazy_state, payload},                                 \
      {"Choice" kind, key, lazy_state, payload},                               \
      {"Wait" kind, key, lazy_state, payload},                                 \
      {"Succeed" kind, key, lazy_state, payload},                              \
      {"Fail" kind, key, lazy_state, payload},                                 \
      {"Map" kind, key, lazy_state, payload}, {                                \
    "Parallel" kind, key, lazy_state, payload                                  \
  }

/* Indexed by EV_*: the order of the enum in history_int.h. */
static const orci_event_type core_types[EV_COUNT] = {
    {"ExecutionStarted", "executionStartedEventDetails", lazy_started, K_INPUT},
    {"ExecutionSucceeded", "executionSucceededEventDetails", NULL, 0},
    {"ExecutionFailed", "executionFailedEventDetails", NULL, 0},
    {"ExecutionAborted", "executionAbortedEventDetails", NULL, 0},
    {"ExecutionTimedOut", "executionTimedOutEventDetails", NULL, 0},
    STATE_EVENTS("StateEntered", "stateEnteredEventDetails", K_INPUT),
    STATE_EVENTS("StateExited", "stateExitedEventDetails", K_OUTPUT),
    {"TaskScheduled", "taskScheduledEventDetails", lazy_task_scheduled, 0},
    {"TaskStarted", "taskStartedEventDetails", lazy_task_started, 0},
    {"TaskSucceeded", "taskSucceededEventDetails", lazy_task_succeeded, 0},
    {"TaskFailed", "taskFailedEventDetails", NULL, 0},
    {"LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails",
     lazy_lambda_scheduled, 0},
    {"LambdaFunctionStarted", NULL, NULL, 0},
    {"LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails",
     lazy_lambda_succeeded, 0},
    {"LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", NULL, 0},
    {"TaskTimedOut", "taskTimedOutEventDetails", NULL, 0},
    {"LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails", NULL, 0},
    {"ParallelStateStarted", NULL, NULL, 0},
    {"ParallelStateSucceeded", NULL, NULL, 0},
    {"ParallelStateFailed", NULL, NULL, 0},
    {"MapStateStarted", "mapStateStartedEventDetails", NULL, 0},
    {"MapStateSucceeded", NULL, NULL, 0},
    {"MapStateFailed", NULL, NULL, 0},
    {"MapIterationStarted", "mapIterationStartedEventDetails", lazy_iteration,
     0},
    {"MapIterationSucceeded", "mapIterationSucceededEventDetails",
     lazy_iteration, 0},
    {"MapIterationFailed", "mapIterationFailedEventDetails", lazy_iteration, 0},
    {"MapIterationAborted", "mapIterationAbortedEventDetails", lazy_iteration,
     0},
    {"MapRunStarted", "mapRunStartedEventDetails", NULL, 0},
    {"MapRunSucceeded", NULL, NULL, 0},
    {"MapRunFailed", "mapRunFailedEventDetails", NULL, 0},
    {"TaskSubmitted", "taskSubmittedEventDetails", NULL, 0},
    {"EvaluationFailed", "evaluationFailedEventDetails", NULL, 0},
};

const orci_event_type *orci_event_type_of(const orc_engine *E, int type) {
  if (type < EV_COUNT) return &core_types[type];
  return ORCI_VEC_AT(&E->evtypes, const orci_event_type *, type - EV_COUNT);
}

int orci_history_add_type(orc_engine *E, const orci_event_type *type) {
  if (EV_COUNT + E->evtypes.n >= 0xFFFF ||
      orci_vec_push(&E->mem, &E->evtypes, sizeof type, &type) != ORC_OK)
    return -1;
  return (int)(EV_COUNT + E->evtypes.n - 1);
}

int orci_history_hook(orc_engine *E, orci_hook_fn fn, void *ud) {
  orci_hook h;
  h.fn = fn;
  h.ud = ud;
  return orci_vec_push(&E->mem, &E->hooks, sizeof h, &h);
}

/* }====== */

/* {====== history */

orc_json *orci_kv_object(orc_engine *E, int n, ...) {
  /* n pairs of (key index, value taken); NULL values are skipped */
  va_list ap;
  orc_json *o;
  int i, k = 0, count = 0;
  int keys[16];
  orc_json *vals[16];
  va_start(ap, n);
  for (i = 0; i < n && i < 16; i++) {
    keys[count] = va_arg(ap, int);
    vals[count] = va_arg(ap, orc_json *);
    if (vals[count]) count++;
  }
  va_end(ap);
  o = orc_json_object_new((size_t)count);
  if (o == NULL) {
    for (i = 0; i < count; i++)
      orc_json_unref(vals[i]);
    return NULL;
  }
  for (i = 0; i < count; i++)
    orc_json_object_set(o, (size_t)k++, orc_json_ref(E->keys[keys[i]]),
                        vals[i]);
  return o;
}

orc_json *orci_str_or_null(const char *s) {
  return s ? orc_json_string(s, strlen(s)) : NULL;
}

/* Append an event; details is taken. Returns its id (0 when the history
** keeps nothing). */
void orci_event_release(orci_event *ev) {
  if (!(ev->lazy & ORCI_EV_LAZY)) orc_json_unref(ev->u.details);
  orc_json_unref(ev->replay);
  orc_json_unref(ev->data);
}

/* Call the hooks with an event (stored or not). */
static void run_hooks(orc_engine *E, orc_execution *X, const orci_event *ev) {
  size_t i;
  for (i = 0; i < E->hooks.n; i++) {
    const orci_hook *h = &ORCI_VEC_AT(&E->hooks, orci_hook, i);
    h->fn(h->ud, X, ev);
  }
}

int64_t orci_add_event_ex(orc_execution *X, int64_t prev, int type,
                          orc_json *details, const orci_state *st,
                          orc_json *data) {
  return orci_add_event_flags(X, prev, type, details, st, data, 0);
}

int64_t orci_add_event_flags(orc_execution *X, int64_t prev, int type,
                             orc_json *details, const orci_state *st,
                             orc_json *data, int flags) {
  orc_engine *E;
  orci_event *ev, tmp;
  int64_t id;
  if (X == NULL) { /* the caller records nothing here */
    orc_json_unref(details);
    orc_json_unref(data);
    return prev;
  }
  E = X->E;
  id = X->next_id++;
  X->total_events++;
  if (E->cfg.history == ORC_HISTORY_NONE) {
    ev = &tmp; /* seen by the hooks, then gone */
  } else {
    if (E->cfg.history == ORC_HISTORY_LAST && E->cfg.history_keep &&
        X->nevents - X->first >= E->cfg.history_keep) {
      orci_event_release(&X->events[X->first]);
      X->first++;
      if (X->first * 2 >= X->nevents) { /* compact */
        memmove(X->events, X->events + X->first,
                (X->nevents - X->first) * sizeof *X->events);
        X->nevents -= X->first;
        X->first = 0;
      }
    }
    if (X->nevents == X->cap) {
      size_t cap = X->cap ? X->cap * 2 : 4; /* 100,000 suspended
                                                executions hold few */
      int failed = E->mem.failed;
      orci_event *p = (orci_event *)orci_realloc(
          E, X->events, X->cap * sizeof *p, cap * sizeof *p);
      if (p == NULL) {
        /* numbered, not stored: the step reports it, unless X is being
        ** closed (nobody can read its history any more) */
        X->lost_events++;
        if (X->closing) E->mem.failed = failed;
        ev = &tmp;
        goto unstored;
      }
      X->events = p;
      X->cap = cap;
    }
    ev = &X->events[X->nevents++];
  }
unstored:
  ev->id = id;
  ev->back = (uint32_t)(id - prev);
  ev->ts_ms = orc_engine_now(E);
  ev->type = (uint16_t)type;
  ev->replay = NULL;
  ev->data = data;
  ev->lazy = (uint16_t)((st != NULL ? ORCI_EV_LAZY : 0) | flags);
  if (st)
    ev->u.st = st;
  else
    ev->u.details = details;
  if (E->hooks.n) run_hooks(E, X, ev);
  if (ev == &tmp) orci_event_release(ev);
  return id;
}

int64_t orci_add_event(orc_execution *X, int64_t prev, int type,
                       orc_json *details) {
  return orci_add_event_ex(X, prev, type, details, NULL, NULL);
}

/* Attach the random values F drew to the last event recorded (its own). */
void orci_attach_replay(orci_frame *F) {
  orc_execution *X = ORCI_FRAME_HISTORY(F);
  orc_json *arr, *o;
  size_t i;
  if (F->ndrawn == 0) return;
  if (X && X->nevents > X->first && X->events[X->nevents - 1].replay == NULL &&
      (arr = orc_json_array_new(F->ndrawn)) != NULL) {
    for (i = 0; i < F->ndrawn; i++) {
      char hex[24];
      int n =
          snprintf(hex, sizeof hex, "%016llx", (unsigned long long)F->drawn[i]);
      orc_json_array_set(arr, i, orc_json_string(hex, (size_t)n));
    }
    o = orc_json_object_new(1);
    if (o) {
      orc_json_object_set(o, 0, orc_json_string("random", 6), arr);
      X->events[X->nevents - 1].replay = o;
    } else {
      orc_json_unref(arr);
    }
  }
  F->ndrawn = 0;
}

orc_json *orci_state_details(orc_engine *E, const orci_state *s, int key,
                             orc_json *data) {
  return orci_kv_object(E, 3, K_NAME, orc_json_ref(s->name_json), key,
                        orc_json_ref(data),
                        key == K_INPUT ? K_INPUT_DETAILS : K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
}

/* Export one event in GetExecutionHistory shape: input/output/parameters
** become JSON text, as AWS returns them. */
static orc_json *export_value(orc_json *v, int depth) {
  size_t i, n;
  orc_json *o;
  if (depth > 0 || orc_json_type_of(v) != ORC_JSON_OBJECT)
    return orc_json_ref(v);
  n = orc_json_len(v);
  o = orc_json_object_new(n);
  if (o == NULL) return NULL;
  for (i = 0; i < n; i++) {
    orc_json *k = orc_json_object_key(v, i), *val = orc_json_object_value(v, i);
    size_t kl;
    const char *ks = orc_json_string_value(k, &kl);
    orc_json *nv;
    if ((kl == 5 && !memcmp(ks, "input", 5)) ||
        (kl == 6 && !memcmp(ks, "output", 6)) ||
        (kl == 10 && !memcmp(ks, "parameters", 10))) {
      size_t tl;
      char *text = orc_json_print(val, 0, &tl);
      nv = text ? orc_json_string(text, tl) : NULL;
      orc_free(text);
    } else {
      nv = orc_json_ref(val);
    }
    orc_json_object_set(o, i, orc_json_ref(k), nv);
  }
  return o;
}

orc_json *orci_skey(const char *s) {
  return orc_json_string(s, strlen(s));
}

/* {====== lazy details: made from (state, payload) when the history is
** read */

static orc_json *data_of(const orci_event *ev) {
  return ev->data ? orc_json_ref(ev->data) : NULL;
}

static orc_json *lazy_started(orc_engine *E, const orci_event *ev) {
  return orci_kv_object(E, 3, K_INPUT, data_of(ev), K_INPUT_DETAILS,
                        orc_json_ref(E->not_truncated), K_ROLE_ARN,
                        orc_json_ref(E->role_json));
}

static orc_json *lazy_state(orc_engine *E, const orci_event *ev) {
  int key = orci_event_type_of(E, ev->type)->payload_key;
  return orci_kv_object(E, 3, K_NAME, orc_json_ref(ev->u.st->name_json), key,
                        data_of(ev),
                        key == K_INPUT ? K_INPUT_DETAILS : K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
}

static orc_json *lazy_lambda_scheduled(orc_engine *E, const orci_event *ev) {
  return orci_kv_object(E, 3, K_RESOURCE, orci_skey(ev->u.st->resource),
                        K_INPUT, data_of(ev), K_INPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
}

static orc_json *lazy_task_scheduled(orc_engine *E, const orci_event *ev) {
  const orci_state *s = ev->u.st;
  return orci_kv_object(E, 4, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                        K_RESOURCE, orci_skey(s->resource_name), K_REGION,
                        orci_skey(E->region), K_PARAMETERS, data_of(ev));
}

static orc_json *lazy_task_started(orc_engine *E, const orci_event *ev) {
  const orci_state *s = ev->u.st;
  return orci_kv_object(E, 2, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                        K_RESOURCE, orci_skey(s->resource_name));
}

static orc_json *lazy_lambda_succeeded(orc_engine *E, const orci_event *ev) {
  return orci_kv_object(E, 2, K_OUTPUT, data_of(ev), K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
}

static orc_json *lazy_task_succeeded(orc_engine *E, const orci_event *ev) {
  const orci_state *s = ev->u.st;
  return orci_kv_object(E, 4, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                        K_RESOURCE, orci_skey(s->resource_name), K_OUTPUT,
                        data_of(ev), K_OUTPUT_DETAILS,
                        orc_json_ref(E->not_truncated));
}

static orc_json *lazy_iteration(orc_engine *E, const orci_event *ev) {
  /* data: the iteration's index */
  return orci_kv_object(E, 2, K_NAME, orc_json_ref(ev->u.st->name_json),
                        K_INDEX, data_of(ev));
}

orc_json *orci_event_details(orc_engine *E, const orci_event *ev) {
  const orci_event_type *t = orci_event_type_of(E, ev->type);
  if (ev->lazy & ORCI_EV_LAZY) return t->lazy ? t->lazy(E, ev) : NULL;
  return ev->u.details ? orc_json_ref(ev->u.details) : NULL;
}

/* }====== */

orc_json *orc_execution_history(const orc_execution *X) {
  size_t i, n = X->nevents - X->first;
  orc_json *arr = orc_json_array_new(n), *root;
  if (arr == NULL) return NULL;
  for (i = 0; i < n; i++) {
    const orci_event *ev = &X->events[X->first + i];
    const orci_event_type *et = orci_event_type_of(X->E, ev->type);
    const char *dk = et->details_key, *tn = et->name;
    orc_json *o = orc_json_object_new((dk ? 5u : 4u) + (ev->replay ? 1u : 0u));
    if (o == NULL) continue;
    orc_json_object_set(o, 0, orci_skey("id"), orc_json_int(ev->id));
    orc_json_object_set(o, 1, orci_skey("previousEventId"),
                        orc_json_int(ev->id - (int64_t)ev->back));
    orc_json_object_set(o, 2, orci_skey("timestamp"),
                        orc_json_float((double)ev->ts_ms / 1000.0));
    orc_json_object_set(o, 3, orci_skey("type"), orci_skey(tn));
    if (dk) { /* lazy details are made now, not per step */
      orc_json *d = orci_event_details(X->E, ev);
      orc_json_object_set(o, 4, orci_skey(dk),
                          d ? export_value(d, 0) : orc_json_object_new(0));
      orc_json_unref(d);
    }
    if (ev->replay)
      orc_json_object_set(o, dk ? 5 : 4, orci_skey("orchestraReplay"),
                          orc_json_ref(ev->replay));
    orc_json_array_set(arr, i, o);
  }
  root = orc_json_object_new(1);
  if (root == NULL) {
    orc_json_unref(arr);
    return NULL;
  }
  orc_json_object_set(root, 0, orci_skey("events"), arr);
  return root;
}

size_t orc_execution_nevents(const orc_execution *X) {
  return X->total_events;
}

/* }====== */

void orci_history_free(orc_execution *X) {
  size_t i;
  for (i = X->first; i < X->nevents; i++)
    orci_event_release(&X->events[i]);
  orci_free(X->E, X->events, X->cap * sizeof *X->events);
  X->events = NULL;
  X->nevents = X->first = X->cap = 0;
}
