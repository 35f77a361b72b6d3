/*
** Tasks: dispatch to a built-in resource or the host, answers, tokens,
** timeouts, heartbeats, and the resource table.
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
#include "orchestra/budget.h"

/* {====== lifetime */

/* Free T once it is done and no call holds it. */
static void task_unhold(orc_task *T) {
  if (--T->holds > 0 || T->done == ORCI_TASK_PENDING) return;
  orc_json_unref(T->input);
  orci_free(T->E, T, sizeof *T);
}

void orc_task_retain(orc_task *T) {
  T->holds++;
}

void orc_task_release(orc_task *T) {
  task_unhold(T);
}

int orc_task_is_done(const orc_task *T) {
  return T->done != ORCI_TASK_PENDING;
}

/* }====== */

/* {====== the pending tasks by token */

static int token_eq(const void *item, const void *key) {
  return strcmp(((const orc_task *)item)->token, (const char *)key) == 0;
}

orc_task *orc_engine_find_task(orc_engine *E, const char *token) {
  return (orc_task *)orci_table_find(&E->tasks, orci_hash_str(token), token,
                                     token_eq);
}

const char *orc_task_token(const orc_task *T) {
  return T->token;
}

/* 32 hex digits (one per task: snprintf cost more than the rest of it) */
void orci_make_token(orc_engine *E, char *buf) {
  orci_put_hex(buf, orci_rng_next(E), 16);
  orci_put_hex(buf + 16, orci_rng_next(E), 16);
  buf[32] = '\0';
}

/* }====== */

/* {====== timed-out tokens: remembered while their execution is held, so
** that an answer that comes late hears TaskTimedOut (as Step Functions
** says) instead of TaskDoesNotExist; closing the execution forgets them */

typedef struct expired {
  char token[40];
  struct expired *next; /* the execution's other expired tokens */
} expired;

static int expired_eq(const void *item, const void *key) {
  return strcmp(((const expired *)item)->token, (const char *)key) == 0;
}

int orc_engine_task_expired(const orc_engine *E, const char *token) {
  return orci_table_find(&E->expired, orci_hash_str(token), token,
                         expired_eq) != NULL;
}

static void remember_expired(orc_engine *E, orc_execution *X,
                             const char *token) {
  expired *x = (expired *)orci_malloc(E, sizeof *x);
  if (x == NULL) return; /* a late answer then hears TaskDoesNotExist */
  snprintf(x->token, sizeof x->token, "%s", token);
  if (orci_table_put(&E->mem, &E->expired, orci_hash_str(token), x) != ORC_OK) {
    orci_free(E, x, sizeof *x);
    return;
  }
  x->next = (expired *)X->expired;
  X->expired = x;
}

void orci_task_forget_expired(orc_engine *E, orc_execution *X) {
  expired *x = (expired *)X->expired;
  while (x) {
    expired *next = x->next;
    orci_table_del(&E->mem, &E->expired, orci_hash_str(x->token), x);
    orci_free(E, x, sizeof *x);
    x = next;
  }
  X->expired = NULL;
}

/* }====== */

/* {====== answers */

const char *orc_task_resource(const orc_task *T) {
  return T->resource;
}

orc_json *orc_task_input(const orc_task *T) {
  return T->input;
}

orc_json *orc_task_context(const orc_task *T) {
  /* made from the frame when asked (a pending task keeps no copy) */
  if (T->F) return orc_json_ref(orci_frame_context(T->F));
  if (T->owner && T->owner->context && T->done == ORCI_TASK_PENDING)
    return T->owner->context(T->owner_data, T);
  return NULL;
}

orc_execution *orc_task_execution(const orc_task *T) {
  return T->X;
}

const char *orc_task_state_name(const orc_task *T) {
  return T->state_name;
}

void orc_task_set_userdata(orc_task *T, void *ud) {
  T->ud = ud;
}

void *orc_task_userdata(const orc_task *T) {
  return T->ud;
}

/* T is done: off the table, its frame's task timers stopped. */
static void task_detach(orc_task *T, int how) {
  orci_frame *F = T->F;
  orc_engine *E = T->X->E;
  T->done = how;
  orci_table_del(&E->mem, &E->tasks, orci_hash_str(T->token), T);
  if (F) {
    orci_timer_cancel(&E->sched, &F->t_timeout);
    orci_timer_cancel(&E->sched, &F->t_heartbeat);
    if (F->task == T) F->task = NULL;
  }
  T->F = NULL;
}

int orci_task_complete(orc_task *T, int ok, orc_json *output, const char *error,
                       const char *cause, orc_error *err) {
  orci_frame *F = T->F;
  if (T->done != ORCI_TASK_PENDING) {
    orc_json_unref(output);
    return orci_error(err, ORC_EMISUSE, NULL,
                      T->done == ORCI_TASK_ANSWERED
                          ? "the task was already answered"
                          : "the task was abandoned (its execution ended, or "
                            "it timed out)");
  }
  task_detach(T, ORCI_TASK_ANSWERED);
  if (F == NULL) { /* an owner's task */
    T->holds++;
    if (T->owner && T->owner->done)
      T->owner->done(T->owner_data, T, ok, output, error, cause);
    else
      orc_json_unref(output);
    task_unhold(T);
    return ORC_OK;
  }
  F->task_ok = ok;
  F->result = output;
  /* copies: a refused one leaves NULL (States.TaskFailed, no cause) and
  ** the next step reports the refusal */
  F->error = orci_strdup(T->E, error);
  F->cause = orci_strdup(T->E, cause);
  F->phase = PH_TASK_DONE;
  orci_enqueue(F);
  T->holds++; /* freed now unless a call still holds it */
  task_unhold(T);
  return ORC_OK;
}

int orc_task_succeed(orc_task *T, orc_json *output, orc_error *err) {
  return orci_task_complete(T, 1, output ? output : orc_json_null(), NULL, NULL,
                            err);
}

int orc_task_fail(orc_task *T, const char *error, const char *cause,
                  orc_error *err) {
  return orci_task_complete(T, 0, NULL, error, cause, err);
}

void orci_drop_task(orc_engine *E, orc_task *T) {
  if (T->done != ORCI_TASK_PENDING) return;
  task_detach(T, ORCI_TASK_ABANDONED);
  T->holds++;     /* the drop callback and the child's end may re-enter */
  if (T->child) { /* a .sync child outlives no parent task: stop it */
    orc_execution *C = T->child;
    T->child = NULL;
    C->parent_task = NULL;
    orci_finish(C, ORC_STATUS_ABORTED, NULL, NULL, NULL, C->root.last_event);
  }
  if (T->sub) { /* the host's call made to answer it goes too */
    orc_task *S = T->sub;
    T->sub = NULL;
    orci_drop_task(E, S);
  }
  if (E->cfg.task_drop) E->cfg.task_drop(E->cfg.task_ud, T);
  if (T->owner && T->owner->done)
    T->owner->done(T->owner_data, T, -1, NULL, NULL, NULL);
  task_unhold(T);
}

int orc_task_heartbeat(orc_task *T, orc_error *err) {
  orci_frame *F = T->F;
  if (T->done != ORCI_TASK_PENDING)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "the task was already answered or abandoned");
  if (F->heartbeat_s > 0 &&
      orci_timer_set(&F->X->E->sched,
                     orc_engine_now(F->X->E) + F->heartbeat_s * 1000,
                     orci_task_heartbeat_fired, F, &F->t_heartbeat) != ORC_OK)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  return ORC_OK;
}

/* }====== */

/* {====== the resource table */

int orci_resource_add(orc_engine *E, const char *prefix, orci_resource_fn start,
                      void *ud) {
  orci_resource r;
  r.prefix = prefix;
  r.len = strlen(prefix);
  r.start = start;
  r.ud = ud;
  return orci_vec_push(&E->mem, &E->resources, sizeof r, &r);
}

const orci_resource *orci_resource_find(const orc_engine *E,
                                        const char *resource) {
  const orci_resource *best = NULL;
  size_t i;
  for (i = 0; i < E->resources.n; i++) {
    const orci_resource *r = &ORCI_VEC_AT(&E->resources, orci_resource, i);
    if ((best == NULL || r->len > best->len) &&
        strncmp(resource, r->prefix, r->len) == 0)
      best = r;
  }
  return best;
}

/* }====== */

/* {====== handing tasks out */

/* TimeoutSeconds / HeartbeatSeconds, literal or from a path (0: none). */
static int task_seconds(orci_frame *F, int64_t lit, orci_path *p,
                        const orci_tmpl *q, const char *field, int64_t *out,
                        orci_failure *f) {
  orci_env env;
  orc_json *v = NULL;
  *out = lit;
  if (q) return orci_query_int(F, q, 1, 99999999, out, f);
  if (p == NULL) return 0;
  orci_frame_env(F, &env, F->input);
  if (orci_path_eval(p, &env, &v) != ORC_OK) {
    char why[512];
    orci_path_explain(p, &env, why, sizeof why);
    f->error = "States.Runtime";
    f->cause =
        orci_runtime_cause(F, "Invalid path '%s' : %s", orci_path_text(p), why);
    return -1;
  }
  if (orc_json_type_of(v) != ORC_JSON_INT || orc_json_int_value(v) <= 0) {
    char *text = orci_raw_text(v);
    f->error = "States.Runtime";
    f->cause = orci_runtime_cause(F,
                                  "The %s parameter does not reference a "
                                  "positive integer: %s == %s",
                                  field, orci_path_text(p), text);
    free(text);
    orc_json_unref(v);
    return -1;
  }
  *out = orc_json_int_value(v);
  orc_json_unref(v);
  return 0;
}

/* Hand T to its built-in resource or the host's handler, holding it. */
static void task_dispatch(orc_engine *E, orc_task *T) {
  const orci_resource *builtin = orci_resource_find(E, T->resource);
  int rc;
  if (builtin == NULL && E->cfg.task == NULL) {
    orci_task_complete(T, 0, NULL, "States.TaskFailed",
                       "no task handler is set on the engine", NULL);
    return;
  }
  if (T->X && T->X->over_budget == 1) { /* stopped after this unit */
    orci_task_complete(T, 0, NULL, ORC_COST_BUDGET_EXCEEDED,
                       "the execution is over its budget_usd: the task was "
                       "not started",
                       NULL);
    return;
  }
  T->holds++;
  if (builtin) {
    rc = builtin->start(builtin->ud, T);
  } else {
    E->dispatched++;
    rc = E->cfg.task(E->cfg.task_ud, T);
  }
  if (rc < 0 && T->done == ORCI_TASK_PENDING)
    orci_task_complete(T, 0, NULL, "States.TaskFailed",
                       "the task handler failed internally", NULL);
  task_unhold(T);
}

/* Hand the frame's task out: to a built-in resource of the resource
** table, else to the host's handler. */
void orci_task_start(orci_frame *F) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  orc_execution *H = ORCI_FRAME_HISTORY(F);
  const orci_state *s = &F->B->states[F->state];
  orc_task *T;
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  int64_t timeout_s, heartbeat_s, now;
  orci_failure f = {NULL, NULL};
  if (task_seconds(F, s->timeout_s, s->timeout_path, s->q_timeout,
                   "TimeoutSecondsPath", &timeout_s, &f) < 0 ||
      task_seconds(F, s->heartbeat_s, s->heartbeat_path, s->q_heartbeat,
                   "HeartbeatSecondsPath", &heartbeat_s, &f) < 0) {
    orci_fail_with(F, &f);
    return;
  }
  F->heartbeat_expired = 0;
  F->last_event = orci_add_event_flags(
      H, F->last_event, lambda ? EV_LAMBDA_SCHEDULED : EV_TASK_SCHEDULED, NULL,
      s, orc_json_ref(F->effective), F->retry_count > 0 ? ORCI_EV_RETRY : 0);
  orci_attach_replay(F);
  if (lambda)
    F->last_event = orci_add_event(H, F->last_event, EV_LAMBDA_STARTED, NULL);
  else
    F->last_event =
        orci_add_event_ex(H, F->last_event, EV_TASK_STARTED, NULL, s, NULL);
  T = (orc_task *)orci_calloc(E, sizeof *T);
  if (T == NULL) {
    orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  T->E = E;
  T->F = F;
  T->X = X;
  T->resource = s->resource;
  T->state_name = s->name;
  T->input = orc_json_ref(F->effective);
  /* one token per state entry: a retry keeps the token Parameters saw */
  memcpy(T->token, F->token, sizeof F->token); /* NUL-terminated */
  if (orci_table_put(&E->mem, &E->tasks, orci_hash_str(T->token), T) !=
      ORC_OK) {
    orc_json_unref(T->input);
    orci_free(E, T, sizeof *T);
    orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  F->task = T;
  F->phase = PH_TASK_WAIT;
  F->heartbeat_s = heartbeat_s;
  now = orc_engine_now(E);
  if ((timeout_s > 0 &&
       orci_timer_set(&E->sched, now + timeout_s * 1000,
                      orci_task_timeout_fired, F, &F->t_timeout) != ORC_OK) ||
      (heartbeat_s > 0 && orci_timer_set(&E->sched, now + heartbeat_s * 1000,
                                         orci_task_heartbeat_fired, F,
                                         &F->t_heartbeat) != ORC_OK)) {
    orci_drop_task(E, T);
    orci_fail_frame(F, "States.Runtime", "out of memory");
    return;
  }
  /* The call may answer T, answer it twice, stop or close X: T stays valid
  ** until it returns (held), X and F until the step ends (a closed
  ** execution is freed when the engine is idle). */
  T->holds++;
  task_dispatch(E, T);
  if (T->done == ORCI_TASK_PENDING && X->status == ORC_STATUS_RUNNING) {
    /* still pending, maybe for long: "$$" is made again if a path needs it
    ** later (100,000 waiting executions would each keep ~0.5 KB of it).
    ** $$.Execution stays while other frames of the execution run (a Map's
    ** iterations share it, and a host caches its conversion). */
    orc_json_unref(F->ctx);
    F->ctx = NULL;
    if (F == &X->root && X->children == NULL) {
      orc_json_unref(X->ctx_execution);
      X->ctx_execution = NULL;
    }
  }
  task_unhold(T);
}

int orci_task_launch(orc_execution *X, const char *resource, const char *name,
                     orc_json *input, const orci_task_owner *owner, void *data,
                     orc_task **out) {
  orc_engine *E = X->E;
  orc_task *T = (orc_task *)orci_calloc(E, sizeof *T);
  if (out) *out = NULL;
  if (T == NULL) {
    orc_json_unref(input);
    return ORC_ENOMEM;
  }
  T->E = E;
  T->X = X;
  T->resource = resource;
  T->state_name = name;
  T->input = input;
  T->owner = owner;
  T->owner_data = data;
  orci_make_token(E, T->token);
  if (orci_table_put(&E->mem, &E->tasks, orci_hash_str(T->token), T) !=
      ORC_OK) {
    orc_json_unref(T->input);
    orci_free(E, T, sizeof *T);
    return ORC_ENOMEM;
  }
  T->holds++; /* so that it can be looked at after the dispatch */
  task_dispatch(E, T);
  if (out && T->done == ORCI_TASK_PENDING) *out = T;
  task_unhold(T);
  return ORC_OK;
}

/* A task's timeout or heartbeat expired: the host's task is abandoned and
** the state fails with States.Timeout (a heartbeat expiry also matches
** States.HeartbeatTimeout in Retry and Catch). */
static void task_expire(orci_frame *F, int heartbeat) {
  orc_execution *X = F->X;
  orc_engine *E = X->E;
  const orci_state *s = &F->B->states[F->state];
  int lambda = s->resource_kind == ORCI_RES_LAMBDA;
  if (X->status != ORC_STATUS_RUNNING || F->phase != PH_TASK_WAIT) return;
  if (F->task) {
    remember_expired(E, X, F->task->token);
    orci_drop_task(E, F->task); /* stops the other timer too */
  }
  F->last_event = orci_add_event(
      ORCI_FRAME_HISTORY(F), F->last_event,
      lambda ? EV_LAMBDA_TIMED_OUT : EV_TASK_TIMED_OUT,
      lambda
          ? orci_kv_object(E, 1, K_ERROR, orci_skey("States.Timeout"))
          : orci_kv_object(E, 3, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                           K_RESOURCE, orci_skey(s->resource_name), K_ERROR,
                           orci_skey("States.Timeout")));
  F->heartbeat_expired = heartbeat; /* reset by the next orci_task_start */
  orci_handle_error(F, "States.Timeout", NULL); /* may free F (a child) */
}

void orci_task_timeout_fired(orc_engine *E, void *data) {
  (void)E;
  task_expire((orci_frame *)data, 0);
}

void orci_task_heartbeat_fired(orc_engine *E, void *data) {
  (void)E;
  task_expire((orci_frame *)data, 1);
}

/* }====== */
