/*
** Executions: start, end, stop, close, their frames and the table of
** executions by (machine, name).
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "execution_int.h"

/* {====== the run queue and timers of frames */

void orci_enqueue(orci_frame *F) {
  orci_run_push(&F->X->E->sched, &F->run);
}

void orci_unqueue(orci_frame *F) {
  orci_run_remove(&F->X->E->sched, &F->run);
}

void orci_frame_cancel_timers(orci_frame *F) {
  orci_sched *S = &F->X->E->sched;
  orci_timer_cancel(S, &F->t_wake);
  orci_timer_cancel(S, &F->t_timeout);
  orci_timer_cancel(S, &F->t_heartbeat);
}

/* }====== */

/* {====== ending executions */

void orci_set_str(orc_engine *E, char **dst, const char *s) {
  orci_strfree(E, *dst);
  *dst = orci_strdup(E, s);
}

/* Inert from now on: no timer, no task, not runnable. */
static void frame_stop(orci_frame *F) {
  orci_frame_cancel_timers(F);
  orci_unqueue(F);
  if (F->task) {
    orc_task *T = F->task;
    F->task = NULL;
    orci_drop_task(F->X->E, T);
  }
}

void orci_finish(orc_execution *X, int status, orc_json *output,
                 const char *error, const char *cause, int64_t prev) {
  orc_engine *E = X->E;
  orci_frame *F;
  int type = X->agent                         ? orci_agent_end_type(X, status)
             : status == ORC_STATUS_SUCCEEDED ? EV_EXECUTION_SUCCEEDED
             : status == ORC_STATUS_FAILED    ? EV_EXECUTION_FAILED
             : status == ORC_STATUS_TIMED_OUT ? EV_EXECUTION_TIMED_OUT
                                              : EV_EXECUTION_ABORTED;
  orc_json *details;
  if (X->status != ORC_STATUS_RUNNING) return;
  if (X->over_budget == 1 && status == ORC_STATUS_SUCCEEDED) {
    /* its last unit took it over its budget (budget.c) */
    orci_budget_fail(X, prev);
    return;
  }
  X->status = status;
  E->nrunning--;
  orci_timer_cancel(&E->sched, &X->t_timeout);
  if (status == ORC_STATUS_SUCCEEDED) {
    X->output = orc_json_ref(output);
    details = orci_kv_object(E, 2, K_OUTPUT, orc_json_ref(output),
                             K_OUTPUT_DETAILS, orc_json_ref(E->not_truncated));
  } else {
    orci_set_str(E, &X->error, error);
    orci_set_str(E, &X->cause, cause);
    details = orci_kv_object(E, 2, K_ERROR, orci_str_or_null(error), K_CAUSE,
                             orci_str_or_null(cause));
  }
  orci_add_event(X, prev, type, details);
  X->root.phase = PH_DONE;
  /* the frames first: a task's drop callback may look at the execution,
  ** and must find it ended and idle */
  frame_stop(&X->root);
  for (F = X->children; F; F = F->next_child)
    frame_stop(F);
  if (X->agent) orci_agent_ended(X);
  if (X->parent_task) orci_complete_parent(X);
}

void orci_execution_timeout_fired(orc_engine *E, void *data) {
  orc_execution *X = (orc_execution *)data;
  (void)E;
  orci_finish(X, ORC_STATUS_TIMED_OUT, NULL, "States.Timeout",
              "The execution exceeded its TimeoutSeconds.", X->root.last_event);
}

/* }====== */

/* {====== executions by (machine, name): names are unique per machine */

static size_t name_hash(const orc_machine *M, const char *name) {
  return orci_hash_str(name) ^
         (size_t)((uintptr_t)M * (uintptr_t)0x9E3779B97F4A7C15ull);
}

typedef struct name_key {
  const orc_machine *M;
  const char *name;
} name_key;

static int name_eq(const void *item, const void *key) {
  const orc_execution *X = (const orc_execution *)item;
  const name_key *k = (const name_key *)key;
  return X->M == k->M && strcmp(X->name, k->name) == 0;
}

orc_execution *orci_name_find(const orc_engine *E, const orc_machine *M,
                              const char *name) {
  name_key k;
  k.M = M;
  k.name = name;
  return (orc_execution *)orci_table_find(&E->names, name_hash(M, name), &k,
                                          name_eq);
}

/* }====== */

/* {====== freeing */

static void frame_release(orci_frame *F) {
  orc_engine *E = F->X->E;
  orc_json_unref(F->input);
  orc_json_unref(F->effective);
  orc_json_unref(F->result);
  orc_json_unref(F->ctx);
  orc_json_unref(F->vars);
  orc_json_unref(F->assigned);
  orci_strfree(E, F->error);
  orci_strfree(E, F->cause);
  orci_frame_free_attempts(F);
  orci_free(E, F->drawn, F->capdrawn * sizeof *F->drawn);
}

void orci_frame_free_attempts(orci_frame *F) {
  orci_free(F->X->E, F->attempts, F->nattempts * sizeof *F->attempts);
  F->attempts = NULL;
  F->nattempts = 0;
}

/* Free a child frame (and, first, any children of its own). */
void orci_frame_free(orci_frame *F) {
  orc_execution *X = F->X;
  if (F->G) {
    while (F->G->first)
      orci_frame_free(F->G->first);
    orci_group_free(X->E, F->G);
    F->G = NULL;
  }
  frame_stop(F);
  if (F->parent && F->parent->G) { /* leave the parent's running list */
    orci_group *G = F->parent->G;
    if (F->prev_sib)
      F->prev_sib->next_sib = F->next_sib;
    else if (G->first == F)
      G->first = F->next_sib;
    if (F->next_sib)
      F->next_sib->prev_sib = F->prev_sib;
    else if (G->last == F)
      G->last = F->prev_sib;
  }
  if (F->sub && (F->parent == NULL || F->parent->sub != F->sub))
    orci_sub_release(F);
  frame_release(F);
  if (F->prev_child)
    F->prev_child->next_child = F->next_child;
  else
    X->children = F->next_child;
  if (F->next_child) F->next_child->prev_child = F->prev_child;
  orci_free(X->E, F, sizeof *F);
}

void orci_execution_free(orc_execution *X) {
  size_t i;
  orc_engine *E = X->E;
  orci_frame *F = &X->root;
  if (X->name) orci_table_del(&E->mem, &E->names, name_hash(X->M, X->name), X);
  if (X->parent_task) { /* its parent's .sync task no longer waits on it */
    X->parent_task->child = NULL;
    X->parent_task = NULL;
  }
  if (X->agent) orci_agent_free(X);
  while (X->children)
    orci_frame_free(X->children);
  orci_group_free(E, F->G);
  F->G = NULL;
  frame_stop(F);
  orci_timer_cancel(&E->sched, &X->t_timeout);
  orci_task_forget_expired(E, X);
  orci_history_free(X);
  orci_meter_detach(X);
  frame_release(F);
  orc_json_unref(X->input);
  orc_json_unref(X->output);
  orc_json_unref(X->ctx_execution);
  orci_strfree(E, X->error);
  orci_strfree(E, X->cause);
  orci_strfree(E, X->arn);
  orci_strfree(E, X->parent_arn);
  orci_strfree(E, X->map_run_arn);
  for (i = 0; i < X->subs.n; i++)
    orci_sub_free(ORCI_VEC_AT(&X->subs, orc_execution *, i));
  orci_vec_free(&E->mem, &X->subs);
  for (i = 0; i < X->nested.n; i++)
    orci_strfree(E, ORCI_VEC_AT(&X->nested, char *, i));
  orci_vec_free(&E->mem, &X->nested);
  orci_free(E, X, sizeof *X);
}

/* }====== */

/* {====== starting */

int orci_valid_name(const char *s) {
  size_t n = strlen(s), i;
  if (n == 0 || n > 80) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7F || strchr("<>{}[]?*\"#%\\^~$&,;:/|`", c))
      return 0;
  }
  return 1;
}

/* The allocator refused what a new execution needs: reported here (not
** again by the next step). */
static int start_refused(orc_engine *E, int failed, orc_error *err) {
  E->mem.failed = failed;
  return orci_error(err, ORC_ENOMEM, NULL,
                    "out of memory: the engine's allocator refused memory "
                    "for a new execution (%zu bytes held)",
                    E->mem.nbytes);
}

int orci_execution_open(orc_machine *M, orc_json *input, const char *name,
                        orc_execution **out, orc_error *err) {
  orc_engine *E = M->E;
  orc_execution *X, *o;
  char uuid[40];
  int failed = E->mem.failed; /* a refusal here is reported here */
  *out = NULL;
  if (name == NULL) {
    orci_make_uuid(E, uuid);
    name = uuid;
  } else if (!orci_valid_name(name)) {
    return orci_error(err, ORC_EINVAL, NULL,
                      "invalid execution name '%s': 1 to 80 characters, no "
                      "whitespace or any of < > { } [ ] ? * \" # %% \\ ^ ~ $ "
                      "& , ; : / | `",
                      name);
  }
  if ((o = orci_name_find(E, M, name)) != NULL)
    return orci_error(err, ORC_EINVAL, NULL,
                      "ExecutionAlreadyExists: an execution named '%s' of "
                      "state machine '%s' already exists",
                      name, M->name);
  if (input == NULL)
    input = orc_json_object_new(0);
  else
    orc_json_ref(input);
  if (input == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  if (E->cfg.max_payload_bytes &&
      orci_json_size(input) > E->cfg.max_payload_bytes) {
    orc_json_unref(input);
    return orci_error(err, ORC_EINVAL, NULL,
                      "States.DataLimitExceeded: the execution input is "
                      "larger than the payload limit of %zu bytes",
                      E->cfg.max_payload_bytes);
  }
  E->mem.failed = 0; /* any refusal from here on fails the start */
  X = (orc_execution *)orci_calloc(E, sizeof *X);
  if (X == NULL) {
    orc_json_unref(input);
    return start_refused(E, failed, err);
  }
  X->E = E;
  X->M = M;
  X->root.X = X;
  X->input = input;
  X->root.X = X; /* orci_execution_free needs it from here on */
  X->arn = orci_strfmt(E, "arn:aws:states:%s:%s:execution:%s:%s", E->region,
                       E->account, M->name, name);
  if (X->arn == NULL) {
    orci_execution_free(X);
    return start_refused(E, failed, err);
  }
  X->name = X->arn + strlen(X->arn) - strlen(name); /* the ARN's tail */
  X->status = ORC_STATUS_RUNNING;
  X->start_ms = orc_engine_now(E);
  X->next_id = 1;
  if (orci_meter_attach(X, NULL) != ORC_OK ||
      orci_table_put(&E->mem, &E->names, name_hash(M, X->name), X) != ORC_OK) {
    orci_execution_free(X);
    return start_refused(E, failed, err);
  }
  X->next_x = E->executions;
  if (E->executions) E->executions->prev_x = X;
  E->executions = X;
  E->nrunning++;
  E->mem.failed = failed;
  *out = X;
  return ORC_OK;
}

int orc_execution_start(orc_machine *M, orc_json *input, const char *name,
                        orc_execution **out, orc_error *err) {
  orc_engine *E = M->E;
  orc_execution *X;
  int failed, rc = orci_execution_open(M, input, name, &X, err);
  *out = NULL;
  if (rc != ORC_OK) return rc;
  failed = E->mem.failed; /* a refusal from here on fails the start */
  E->mem.failed = 0;
  orci_add_event_ex(X, 0, EV_EXECUTION_STARTED, NULL, &orci_start_marker,
                    orc_json_ref(X->input));
  X->root.B = &M->top;
  X->root.state = M->top.start;
  X->root.phase = PH_ENTER;
  X->root.input = orc_json_ref(X->input);
  X->root.last_event = 0; /* the first state's Entered points at 0 */
  X->root.run.run = orci_frame_run;
  if (E->mem.failed || /* e.g. ExecutionStarted could not be stored */
      (M->timeout_s &&
       orci_timer_set(&E->sched, X->start_ms + M->timeout_s * 1000,
                      orci_execution_timeout_fired, X,
                      &X->t_timeout) != ORC_OK)) {
    /* freed at once: nothing outside saw it yet */
    orci_table_del(&E->mem, &E->names, name_hash(M, X->name), X);
    if (X->prev_x)
      X->prev_x->next_x = X->next_x;
    else
      E->executions = X->next_x;
    if (X->next_x) X->next_x->prev_x = X->prev_x;
    E->nrunning--;
    orci_execution_free(X);
    return start_refused(E, failed, err);
  }
  orci_enqueue(&X->root);
  E->mem.failed = failed;
  *out = X;
  return ORC_OK;
}

/* }====== */

/* {====== reading */

int orc_execution_status(const orc_execution *X) {
  return X->status;
}

const char *orc_status_text(int status) {
  static const char *const names[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "ABORTED"};
  return status >= 0 && status <= 4 ? names[status] : "UNKNOWN";
}

orc_json *orc_execution_output(const orc_execution *X) {
  return X->output;
}

const char *orc_execution_error(const orc_execution *X) {
  return X->error;
}

const char *orc_execution_cause(const orc_execution *X) {
  return X->cause;
}

const char *orc_execution_name(const orc_execution *X) {
  return X->name;
}

const char *orc_execution_arn(const orc_execution *X) {
  return X->arn;
}

orc_json *orc_execution_input(const orc_execution *X) {
  return X->input;
}

orc_machine *orc_execution_machine(const orc_execution *X) {
  return X->M;
}

size_t orc_execution_nchildren(const orc_execution *X) {
  return X->subs.n;
}

orc_execution *orc_execution_child(const orc_execution *X, size_t i) {
  return i < X->subs.n ? ORCI_VEC_AT(&X->subs, orc_execution *, i) : NULL;
}

const char *orc_execution_parent_arn(const orc_execution *X) {
  return X->parent_arn;
}

const char *orc_execution_map_run(const orc_execution *X) {
  return X->map_run_arn;
}

size_t orc_execution_nnested(const orc_execution *X) {
  return X->nested.n;
}

const char *orc_execution_nested_arn(const orc_execution *X, size_t i) {
  return i < X->nested.n ? ORCI_VEC_AT(&X->nested, char *, i) : NULL;
}

orc_execution *orc_engine_find_execution(orc_engine *E, const char *arn) {
  const char *name = strrchr(arn, ':'), *mk = strstr(arn, ":execution:");
  orc_machine *M;
  size_t mlen;
  if (name == NULL || mk == NULL || name <= mk + 11) return NULL;
  mk += 11;
  mlen = (size_t)(name - mk);
  for (M = E->machines; M; M = M->next_machine)
    if (strlen(M->name) == mlen && !strncmp(M->name, mk, mlen))
      return orci_name_find(E, M, name + 1);
  M = orci_agent_record(E, mk, mlen); /* an agent's invocation */
  return M ? orci_name_find(E, M, name + 1) : NULL;
}

uint64_t orc_execution_transitions(const orc_execution *X) {
  return X->transitions;
}

size_t orc_execution_pending_tasks(const orc_execution *X, orc_task **out,
                                   size_t max) {
  size_t n = 0;
  const orci_frame *F;
  if (X->root.task) {
    if (n < max) out[n] = X->root.task;
    n++;
  }
  for (F = X->children; F; F = F->next_child)
    if (F->task) {
      if (n < max) out[n] = F->task;
      n++;
    }
  return n;
}

orc_execution *orc_engine_next_execution(const orc_engine *E,
                                         const orc_execution *X) {
  return X == NULL ? E->executions : X->next_x;
}

/* }====== */

/* {====== stopping and closing */

int orc_execution_stop(orc_execution *X, const char *error, const char *cause,
                       orc_error *err) {
  if (X->status != ORC_STATUS_RUNNING)
    return orci_error(err, ORC_EMISUSE, NULL,
                      "execution '%s' is not running (%s)", X->name,
                      orc_status_text(X->status));
  orci_engine_enter(X->E); /* a drop callback may close X */
  orci_finish(X, ORC_STATUS_ABORTED, NULL, error, cause, X->root.last_event);
  orci_engine_leave(X->E);
  return ORC_OK;
}

/* Unlink X from the engine and free it. */
static void close_now(orc_execution *X) {
  orc_engine *E = X->E;
  if (X->prev_x)
    X->prev_x->next_x = X->next_x;
  else
    E->executions = X->next_x;
  if (X->next_x) X->next_x->prev_x = X->prev_x;
  orci_execution_free(X);
}

void orci_engine_enter(orc_engine *E) {
  E->busy++;
}

void orci_engine_leave(orc_engine *E) {
  size_t i;
  if (--E->busy > 0) return;
  /* executions closed while the engine was at work are freed now, when no
  ** caller up the stack can still hold one of their frames or tasks */
  for (i = 0; i < E->zombies.n; i++)
    close_now(ORCI_VEC_AT(&E->zombies, orc_execution *, i));
  E->zombies.n = 0;
}

void orc_execution_close(orc_execution *X) {
  orc_engine *E;
  if (X == NULL || X->closing) return;
  E = X->E;
  orci_engine_enter(E);
  X->closing = 1;
  if (X->status == ORC_STATUS_RUNNING)
    orci_finish(X, ORC_STATUS_ABORTED, NULL, NULL, NULL, X->root.last_event);
  if (orci_vec_push(&E->mem, &E->zombies, sizeof X, &X) != ORC_OK) {
    /* cannot defer: only safe when nothing else is at work */
    if (E->busy == 1) close_now(X);
  }
  orci_engine_leave(E);
}

/* }====== */
