/*
** Nested executions: the states:startExecution resources (plain, .sync,
** .sync:2, .waitForTaskToken) and DescribeExecution's answer.
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

orc_json *orci_describe(orc_execution *X, int mode) {
  static const char *const keys[] = {
      "ExecutionArn", "Input",         "InputDetails", "Name",
      "Output",       "OutputDetails", "StartDate",    "StateMachineArn",
      "Status",       "StopDate",      "Error",        "Cause"};
  orc_json *v[12], *inc;
  char start[40], stop[40];
  size_t n = 10, i;
  orci_format_timestamp(X->start_ms, start);
  orci_format_timestamp(orc_engine_now(X->E), stop);
  inc = orc_json_object_new(1);
  if (inc) orc_json_object_set(inc, 0, orci_skey("Included"), orc_json_bool(1));
  v[0] = orci_skey(X->arn);
  if (mode == 2) {
    v[1] = orc_json_ref(X->input);
    v[4] = X->output ? orc_json_ref(X->output) : orc_json_null();
  } else {
    char *ti = orci_compact(X->input),
         *to = X->output ? orci_compact(X->output) : NULL;
    v[1] = orci_skey(ti);
    v[4] = to ? orci_skey(to) : orc_json_null();
    free(ti);
    free(to);
  }
  v[2] = orc_json_ref(inc);
  v[3] = orci_skey(X->name);
  v[5] = inc;
  v[6] = orci_skey(start);
  v[7] = orci_skey(X->M->arn);
  v[8] = orci_skey(orc_status_text(X->status));
  v[9] = orci_skey(stop);
  if (X->status != ORC_STATUS_SUCCEEDED) {
    v[n++] = X->error ? orci_skey(X->error) : orc_json_null();
    v[n++] = X->cause ? orci_skey(X->cause) : orc_json_null();
  }
  for (i = 0; i < n; i++)
    if (v[i] == NULL) v[i] = orc_json_null();
  return orci_obj_of(n, keys, v);
}

/* A child started by states:startExecution.sync ended: answer the parent's
** task (a failed child fails it with States.TaskFailed, as AWS does). */
void orci_complete_parent(orc_execution *X) {
  orc_task *T = X->parent_task;
  orc_json *d;
  if (T->sync == ORCI_SYNC_AGENT) { /* invokeAgent: an agent's invocation */
    orci_invoke_agent_done(X);
    return;
  }
  d = orci_describe(X, T->sync);
  X->parent_task = NULL;
  T->child = NULL;
  if (X->status == ORC_STATUS_SUCCEEDED) {
    orci_task_complete(T, 1, d, NULL, NULL, NULL);
  } else {
    char *cause = d ? orci_compact(d) : NULL;
    orc_json_unref(d);
    orci_task_complete(T, 0, NULL, "States.TaskFailed", cause, NULL);
    free(cause);
  }
}

/* Task states with Resource arn:aws:states:::states:startExecution (and
** .sync, .sync:2, .waitForTaskToken) start another machine of this engine,
** named by StateMachineArn (or its name): an entry of the resource table. */
static int start_child(void *ud, orc_task *T) {
  orci_frame *F = T->F;
  const orci_state *s = &F->B->states[F->state];
  orc_execution *X = F->X, *C = NULL;
  orc_engine *E = X->E;
  const char *suffix = s->resource + 38;
  (void)ud;
  orc_json *p = F->effective, *arn_v, *in_v, *name_v, *resp, *input = NULL;
  const char *arn, *name = NULL;
  orc_machine *M;
  orc_error err;
  char date[40];
  static const char *const rk[] = {"ExecutionArn", "StartDate"};
  orc_json *rv[2];
  int rc;
  int mode = !strcmp(suffix, ".sync")               ? 1
             : !strcmp(suffix, ".sync:2")           ? 2
             : !strcmp(suffix, ".waitForTaskToken") ? 3
             : !strcmp(suffix, "")                  ? 0
                                                    : -1;
  if (mode < 0 || orc_json_type_of(p) != ORC_JSON_OBJECT ||
      (arn_v = orc_json_object_find(p, "StateMachineArn", 15)) == NULL ||
      orc_json_type_of(arn_v) != ORC_JSON_STRING) {
    orci_task_complete(T, 0, NULL, "States.Runtime",
                       mode < 0 ? "unknown form of states:startExecution"
                                : "states:startExecution needs Parameters with "
                                  "StateMachineArn",
                       NULL);
    return ORC_OK;
  }
  arn = orc_json_string_value(arn_v, NULL);
  for (M = E->machines; M; M = M->next_machine)
    if (!strcmp(M->arn, arn) || !strcmp(M->name, arn)) break;
  if (M == NULL) {
    char cause[400];
    snprintf(cause, sizeof cause, "State Machine Does Not Exist: '%s'", arn);
    orci_task_complete(T, 0, NULL,
                       "StepFunctions.StateMachineDoesNotExistException", cause,
                       NULL);
    return ORC_OK;
  }
  in_v = orc_json_object_find(p, "Input", 5);
  if (in_v && orc_json_type_of(in_v) == ORC_JSON_STRING) {
    size_t len;
    const char *txt = orc_json_string_value(in_v, &len);
    if (orc_json_parse(txt, len, NULL, &input, &err) != ORC_OK) {
      orci_task_complete(T, 0, NULL,
                         "StepFunctions.InvalidExecutionInputException",
                         err.message, NULL);
      return ORC_OK;
    }
  } else if (in_v) {
    input = orc_json_ref(in_v);
  }
  name_v = orc_json_object_find(p, "Name", 4);
  if (name_v && orc_json_type_of(name_v) == ORC_JSON_STRING)
    name = orc_json_string_value(name_v, NULL);
  if ((rc = orc_execution_start(M, input, name, &C, &err)) != ORC_OK) {
    orc_json_unref(input);
    if (rc == ORC_ENOMEM) { /* the engine's failure: this step reports it */
      E->mem.failed = 1;
      orci_task_complete(T, 0, NULL, "States.Runtime", err.message, NULL);
      return ORC_OK;
    }
    orci_task_complete(T, 0, NULL,
                       strstr(err.message, "ExecutionAlreadyExists")
                           ? "StepFunctions.ExecutionAlreadyExistsException"
                           : "StepFunctions.InvalidExecutionInputException",
                       err.message, NULL);
    return ORC_OK;
  }
  orc_json_unref(input);
  orci_set_str(E, &C->parent_arn, X->arn);
  {
    char *arn_copy = orci_strdup(E, C->arn);
    if (arn_copy && orci_vec_push(&E->mem, &X->nested, sizeof arn_copy,
                                  &arn_copy) != ORC_OK)
      orci_strfree(E, arn_copy);
  }
  orci_format_timestamp(C->start_ms, date);
  rv[0] = orci_skey(C->arn);
  rv[1] = orci_skey(date);
  resp = orci_obj_of(2, rk, rv);
  if (mode == 0) {
    orci_task_complete(T, 1, resp, NULL, NULL, NULL);
    return ORC_OK;
  }
  F->last_event = orci_add_event(
      ORCI_FRAME_HISTORY(F), F->last_event, EV_TASK_SUBMITTED,
      orci_kv_object(E, 4, K_RESOURCE_TYPE, orci_skey(s->resource_type),
                     K_RESOURCE, orci_skey(s->resource_name), K_OUTPUT, resp,
                     K_OUTPUT_DETAILS, orc_json_ref(E->not_truncated)));
  if (mode == 3) return ORC_OK; /* answered by token, usually by the child */
  T->child = C;
  T->sync = mode;
  C->parent_task = T;
  return ORC_OK;
}

int orci_nested_register(orc_engine *E) {
  return orci_resource_add(E, "arn:aws:states:::states:startExecution",
                           start_child, NULL);
}
