/*
** Agents: a model decides at run time which tools to call. An agent is
** compiled once (orc_agent_new) and each invocation is an orc_execution of
** the same engine: status, output, error, cause, history, stop and close
** work as for a state machine's, and orc_engine_step drives it.
**
** The loop: a model call (a task) gives a turn; the turn's tool calls run
** as tasks, concurrently; their results go back to the model; until the
** model answers without tool calls, or a limit ends the invocation with
** one of the named errors below. Tool arguments are checked against the
** tool's JSON schema first: a failed check, a failed tool or an unknown
** tool name becomes an error result the model sees, never a failure of
** the invocation.
*/
#ifndef ORCHESTRA_AGENT_H
#define ORCHESTRA_AGENT_H

#include "orchestra/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct orc_agent orc_agent;

/* Errors that end an invocation (orc_execution_error). The cause is JSON
** text {"message", "partial" (the model's last text), "steps", "usage",
** "transcript"}. */
#define ORC_AGENT_MAX_STEPS     "Agent.MaxStepsExceeded"
#define ORC_AGENT_MAX_TOKENS    "Agent.MaxTokensExceeded"
#define ORC_AGENT_MODEL_ERROR   "Agent.ModelError"
#define ORC_AGENT_TIMEOUT       "Agent.Timeout"
#define ORC_AGENT_INVALID       "Agent.InvalidOutput"
#define ORC_AGENT_REPEATED_CALL "Agent.RepeatedToolCall"
/* Also Cost.BudgetExceeded and Cost.UnknownPrice (orchestra/budget.h),
** with the same cause. */

/* Kinds of tools. */
#define ORC_TOOL_HOST    0 /* a task the host's handler answers (resource) */
#define ORC_TOOL_RETURN  1 /* no handler: return of control to the caller */
#define ORC_TOOL_MACHINE 2 /* a state machine: its execution is the call */
#define ORC_TOOL_AGENT   3 /* another agent: its invocation is the call */

typedef struct orc_agent_tool {
  const char *name;        /* [a-zA-Z0-9_-]{1,64}, unique in the agent */
  const char *description; /* may be NULL */
  orc_json *schema;        /* JSON Schema of the arguments (borrowed; the
                              agent keeps a reference); NULL: any object */
  int kind;                /* ORC_TOOL_* */
  const char *resource;    /* HOST: the resource of its tasks (NULL:
                              "orchestra:tool:<agent>:<tool>") */
  orc_machine *machine;    /* MACHINE */
  orc_agent *agent;        /* AGENT */
} orc_agent_tool;

/* Kinds of models. */
#define ORC_MODEL_SCRIPTED  0 /* the host answers model tasks with turns */
#define ORC_MODEL_OPENAI    1 /* OpenAI-compatible Chat Completions */
#define ORC_MODEL_ANTHROPIC 2 /* Anthropic Messages */
#define ORC_MODEL_BEDROCK   3 /* Amazon Bedrock Converse */

typedef struct orc_agent_model {
  int kind; /* ORC_MODEL_* */
  /* SCRIPTED: model calls are tasks of this resource (NULL:
  ** "orchestra:model:<agent>"), answered with a turn {text, tool_calls =
  ** [{id, name, arguments}], stop_reason, usage = {input_tokens,
  ** output_tokens, cache_read_tokens, cache_write_tokens}}. Their input is
  ** {"step": n} only, or with with_messages {"step", "messages", "tools"}
  ** (the conversation so far, in the transcript's shape). */
  const char *resource;
  int with_messages;
  /* SCRIPTED: model (may be NULL: "scripted") is the name its calls are
  ** recorded (gen_ai.request.model), metered and priced under. */
  /* Providers (NULL fields come from the environment as the providers'
  ** SDKs take them: OPENAI_API_KEY, ANTHROPIC_API_KEY, AWS_REGION,
  ** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
  ** AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL). */
  const char *model; /* model name, or Bedrock model id */
  const char *base_url, *api_key, *anthropic_version;
  const char *region, *endpoint_url;
  long timeout_ms; /* one HTTP request (default 120000) */
} orc_agent_model;

typedef struct orc_agent_config {
  const char *name; /* unique per engine (NULL: "Agent", "Agent-2", ...) */
  const char *instructions; /* the system prompt, or NULL */
  orc_agent_model model;
  const orc_agent_tool *tools;
  size_t ntools;
  int max_steps;           /* model calls per invocation (default 10) */
  int64_t max_tokens;      /* output tokens per invocation (0: no limit;
                              each request asks for at most what is left) */
  double temperature;      /* < 0: not sent (default -1) */
  orc_json *output_schema; /* the final answer must be JSON matching it
                              (one repair round trip), or NULL */
  double timeout_seconds;  /* the whole invocation (0: none) */
  int max_repeated_calls;  /* identical tool calls in a row (default 3) */
  int retry_max_attempts;  /* model call attempts (default 3) */
  double retry_base_ms;    /* first back-off (default 1000) */
  double retry_max_ms;     /* back-off and Retry-After cap (default 60000) */
  double budget_usd;       /* each invocation's budget in dollars
                              (orchestra/budget.h; 0: the engine's
                              budget_usd). The engine's catalog must price
                              the model (ORC_EINVAL otherwise) */
} orc_agent_config;

/* Fill cfg with the defaults. */
ORC_API void orc_agent_config_init(orc_agent_config *cfg);

/* Compile an agent (cfg and what it points to are borrowed and copied).
** On ORC_OK *out is owned by the engine. ORC_EINVAL with err naming the
** option (a duplicate name, a bad tool name or schema, a provider without
** its model or credentials). */
ORC_API int orc_agent_new(orc_engine *E, const orc_agent_config *cfg,
                          orc_agent **out, orc_error *err);
ORC_API const char *orc_agent_name(const orc_agent *A);
/* The agent of this name, or NULL. */
ORC_API orc_agent *orc_engine_find_agent(orc_engine *E, const char *name);

/* Start an invocation with prompt (UTF-8). session (may be NULL) names a
** conversation kept in the engine across invocations; name (may be NULL)
** names the execution. On ORC_OK *out is an execution owned by the engine,
** running on later steps. ORC_EINVAL for a name taken or invalid. */
ORC_API int orc_agent_start(orc_agent *A, const char *prompt,
                            const char *session, const char *name,
                            orc_execution **out, orc_error *err);

/* The agent X is an invocation of, or NULL when X runs a state machine. */
ORC_API orc_agent *orc_execution_agent(const orc_execution *X);

/* Return of control: the calls of tools without a handler that X waits
** for (borrowed tasks, valid until answered: orc_task_succeed /
** orc_task_fail). Each task's input is {"id", "name", "arguments"}. Up to
** max are stored in out; returns how many there are. */
ORC_API size_t orc_agent_pending_tools(const orc_execution *X, orc_task **out,
                                       size_t max);

/* A session's memory as {"messages": [...], "attributes": {...}} (returns
** owned), or NULL when there is none. */
ORC_API orc_json *orc_agent_session(orc_agent *A, const char *id);
/* Forget a session. */
ORC_API void orc_agent_clear_session(orc_agent *A, const char *id);
/* A tool task (or a model task) replaces its invocation's session
** attributes with attrs (borrowed; an object). ORC_EINVAL when T is not an
** agent's pending task or attrs not an object. */
ORC_API int orc_agent_task_set_attributes(orc_task *T, orc_json *attrs,
                                          orc_error *err);

#ifdef __cplusplus
}
#endif

#endif
