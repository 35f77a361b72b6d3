/*
** arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent: a workflow's
** Task runs an agent registered on the engine (AgentId = its name) as one
** invocation, the way Step Functions' SDK integration calls Bedrock Agents.
** Parameters: AgentId, InputText (required), SessionId (the agent's
** session memory), EndSession (forget the session afterwards);
** AgentAliasId, EnableTrace, SessionState and MemoryId are accepted and
** ignored. The result is {"Completion": <the answer>, "SessionId": ...,
** "ExecutionArn": <the invocation>}; a failed invocation fails the task
** with the agent's own error (Agent.MaxStepsExceeded, ...) and cause, so a
** Catch matches them by name. The invocation is a child of the workflow:
** each names the other (parent_arn, nested), and stopping the workflow
** stops it.
*/
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "execution_int.h"
#include "orchestra/agent.h"

#define SERVICE                                                                \
  "(Service: BedrockAgentRuntime, Status Code: %d, Request ID: none)"

static const char *str_param(const orc_json *p, const char *key) {
  orc_json *v = orc_json_object_find(p, key, strlen(key));
  return v && orc_json_type_of(v) == ORC_JSON_STRING
             ? orc_json_string_value(v, NULL)
             : NULL;
}

static void refuse(orc_task *T, const char *error, int status,
                   const char *what) {
  char cause[600];
  snprintf(cause, sizeof cause, "%s " SERVICE, what, status);
  orci_task_complete(T, 0, NULL, error, cause, NULL);
}

int orci_invoke_agent_start(void *ud, orc_task *T) {
  orc_engine *E = (orc_engine *)ud;
  orc_json *p = orc_task_input(T), *end;
  orc_execution *X = T->X, *C = NULL;
  const char *id, *text, *session;
  orc_agent *A;
  orc_error err;
  char *arn_copy;
  if (strcmp(T->resource,
             "arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent") != 0) {
    char cause[400];
    snprintf(cause, sizeof cause,
             "orchestra runs bedrockagentruntime:invokeAgent only, not %s",
             T->resource);
    orci_task_complete(T, 0, NULL, "States.Runtime", cause, NULL);
    return ORC_OK;
  }
  if (orc_json_type_of(p) != ORC_JSON_OBJECT ||
      (id = str_param(p, "AgentId")) == NULL || id[0] == '\0') {
    refuse(T, "BedrockAgentRuntime.ValidationException", 400,
           "invokeAgent needs Parameters with AgentId (the name of an agent "
           "registered on the engine) and InputText.");
    return ORC_OK;
  }
  if ((text = str_param(p, "InputText")) == NULL) {
    refuse(T, "BedrockAgentRuntime.ValidationException", 400,
           "invokeAgent: InputText must be a string.");
    return ORC_OK;
  }
  session = str_param(p, "SessionId");
  end = orc_json_object_find(p, "SessionId", 9);
  if (end && session == NULL) {
    refuse(T, "BedrockAgentRuntime.ValidationException", 400,
           "invokeAgent: SessionId must be a string.");
    return ORC_OK;
  }
  if ((A = orc_engine_find_agent(E, id)) == NULL) {
    char what[400];
    snprintf(what, sizeof what,
             "Failed to retrieve resource because it doesn't exist: no "
             "agent named '%.200s' is registered on the engine.",
             id);
    refuse(T, "BedrockAgentRuntime.ResourceNotFoundException", 404, what);
    return ORC_OK;
  }
  if (orc_agent_start(A, text, session, NULL, &C, &err) != ORC_OK) {
    refuse(T, "BedrockAgentRuntime.ValidationException", 400, err.message);
    return ORC_OK;
  }
  /* linked both ways, and awaited as startExecution.sync awaits a child */
  orci_set_str(X->E, &C->parent_arn, X->arn);
  arn_copy = orci_strdup(X->E, C->arn);
  if (arn_copy && orci_vec_push(&X->E->mem, &X->nested, sizeof arn_copy,
                                &arn_copy) != ORC_OK)
    orci_strfree(X->E, arn_copy);
  T->child = C;
  T->sync = ORCI_SYNC_AGENT;
  C->parent_task = T;
  return ORC_OK;
}

/* The invocation C ended (from orci_complete_parent): answer its task. */
void orci_invoke_agent_done(orc_execution *C) {
  orc_task *T = C->parent_task;
  orc_json *p = orc_task_input(T), *end;
  const char *session = str_param(p, "SessionId");
  C->parent_task = NULL;
  T->child = NULL;
  end = orc_json_object_find(p, "EndSession", 10);
  if (session && end && orc_json_is_true(end)) {
    orc_agent *A = orc_execution_agent(C);
    if (A) orc_agent_clear_session(A, session);
  }
  if (C->status == ORC_STATUS_SUCCEEDED) {
    static const char *const keys[] = {"Completion", "SessionId",
                                       "ExecutionArn"};
    orc_json *v[3], *out = C->output, *text, *st;
    size_t n = 0;
    text = orc_json_object_find(out, "text", 4);
    st = orc_json_object_find(out, "structured", 10);
    if (text && orc_json_type_of(text) == ORC_JSON_STRING &&
        (orc_json_len(text) > 0 || st == NULL)) {
      v[n++] = orc_json_ref(text);
    } else if (st) { /* the structured answer, as JSON text */
      size_t len;
      char *t = orc_json_print(st, 0, &len);
      v[n++] = t ? orc_json_string(t, len) : NULL;
      orc_free(t);
    } else {
      v[n++] = orc_json_string("", 0);
    }
    v[n++] =
        session ? orc_json_string(session, strlen(session)) : orc_json_null();
    v[n++] = orc_json_string(C->arn, strlen(C->arn));
    orci_task_complete(T, 1, orci_obj_of(3, keys, v), NULL, NULL, NULL);
  } else {
    orci_task_complete(
        T, 0, NULL, C->error ? C->error : "States.TaskFailed",
        C->cause ? C->cause : "the agent's invocation was stopped", NULL);
  }
}
