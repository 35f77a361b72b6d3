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

#ifdef __cplusplus
}
#endif

#endif
