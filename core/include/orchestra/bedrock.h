/*
** Amazon Bedrock as a built-in Task resource:
** arn:aws:states:::bedrock:invokeModel, as Step Functions' optimized
** integration defines it. Parameters: ModelId (a model id, inference
** profile or ARN), Body (the model's native InvokeModel request body, e.g.
** Anthropic Messages with anthropic_version "bedrock-2023-05-31" for
** anthropic.* models), ContentType and Accept (application/json only).
** The task's result is {"Body": <the parsed response body>, "ContentType":
** "application/json"}. A refusal by the service fails the task with
** Bedrock.<ExceptionName> (Bedrock.ThrottlingException,
** Bedrock.ValidationException, Bedrock.AccessDeniedException, ...) and a
** cause in the AWS SDK's form ("<message> (Service: BedrockRuntime, Status
** Code: 429, Request ID: ...)"); a transfer that fails (refused, dropped,
** timed out, not JSON) fails it with States.TaskFailed. Requests are
** signed with SigV4 (service "bedrock") and sent by the engine's HTTP
** client during orc_engine_step: nothing blocks.
*/
#ifndef ORCHESTRA_BEDROCK_H
#define ORCHESTRA_BEDROCK_H

#include "orchestra/agent.h"
#include "orchestra/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where invokeModel requests go. NULL fields are read from the process's
** environment when a task starts, as the AWS SDKs read them. */
typedef struct orc_bedrock_config {
  const char *region;            /* AWS_REGION, AWS_DEFAULT_REGION, else the
                                    engine's region */
  const char *endpoint_url;      /* AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
                                    AWS_ENDPOINT_URL, else
                                    https://bedrock-runtime.{region}.amazonaws.com
                                  */
  const char *access_key_id;     /* AWS_ACCESS_KEY_ID */
  const char *secret_access_key; /* AWS_SECRET_ACCESS_KEY */
  const char *session_token;     /* AWS_SESSION_TOKEN (taken from the
                                    environment only with the key id) */
  int64_t timeout_ms;            /* one request (0: 300000) */
} orc_bedrock_config;

/* Set where E's bedrock:invokeModel tasks send requests; cfg (borrowed) is
** copied, NULL restores the defaults. Tasks already sent keep their
** settings. ORC_OK, ORC_EINVAL (an endpoint that is not http(s)://, a
** negative timeout), ORC_ENOMEM. */
ORC_API int orc_engine_set_bedrock(orc_engine *E, const orc_bedrock_config *cfg,
                                   orc_error *err);

/* Answer E's bedrock:invokeModel tasks whose ModelId starts with prefix
** (borrowed; the longest routed prefix wins) with model (borrowed, copied;
** an OpenAI or Anthropic provider is resolved against the environment
** now). Bedrock: the Body goes unchanged to model->model (its model id),
** region and endpoint. Other kinds map the Body from the model id's
** native format (Anthropic Messages for anthropic.* ids) to the provider
** and its answer back to the native response, so the result reads as
** Bedrock's; a Body that cannot be mapped fails the task with
** States.TaskFailed naming the model id; an HTTP failure of the provider
** with the Bedrock exception a workflow for AWS catches
** (Bedrock.ThrottlingException for 429, ...). Scripted: the host answers
** tasks of *resource (returned; valid while E lives; model->resource if
** given) whose input is {"messages", "tools", "instructions", "model_id",
** "max_tokens"} with a turn, as an agent's scripted model does. ORC_OK,
** ORC_EINVAL (an empty or routed prefix, a provider without its model or
** key), ORC_ENOMEM. */
ORC_API int orc_engine_route_model(orc_engine *E, const char *prefix,
                                   const orc_agent_model *model,
                                   const char **resource, orc_error *err);

#ifdef __cplusplus
}
#endif

#endif
