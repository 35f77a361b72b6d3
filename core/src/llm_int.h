/*
** Model providers: one internal shape for a conversation and for a model
** turn, and per provider a request builder and a response parser.
**
** Providers: OpenAI-compatible Chat Completions (also llama.cpp server,
** vLLM, Ollama), Anthropic Messages, Amazon Bedrock Converse (signed with
** sigv4.c). Wire formats: ../shared/reference/llm-wire-formats.md. Nothing
** here does I/O: the caller sends what orci_llm_build made (http.c) and
** hands the finished transfer to orci_llm_parse.
**
** Secrets (API keys, the AWS secret key and session token) live in the
** provider object and in the built request's headers only: they never
** appear in an orci_llm_error (messages are scrubbed of them), and
** orci_llm_http_free and orci_llm_provider_free wipe them.
*/
#ifndef ORCHESTRA_LLM_INT_H
#define ORCHESTRA_LLM_INT_H

#include "http_int.h"
#include "orchestra/json.h"

#define ORCI_LLM_MODEL_ERROR "Agent.ModelError"

/* {====== the conversation (borrowed views: the caller keeps the storage) */

typedef enum orci_llm_part_type {
  ORCI_LLM_TEXT,       /* text */
  ORCI_LLM_TOOL_USE,   /* assistant: id, name, input (and input_text) */
  ORCI_LLM_TOOL_RESULT /* user: id, result, is_error */
} orci_llm_part_type;

typedef struct orci_llm_part {
  orci_llm_part_type type;
  const char *text;       /* TEXT: the text (UTF-8) */
  const char *id;         /* TOOL_USE: the call id; TOOL_RESULT: the call
                             it answers */
  const char *name;       /* TOOL_USE: the tool's name */
  const orc_json *input;  /* TOOL_USE: the arguments (an object) */
  const char *input_text; /* TOOL_USE, optional: the arguments exactly as
                             the model sent them (OpenAI replays them
                             verbatim, even when they were not JSON) */
  const orc_json *result; /* TOOL_RESULT: any JSON value; a string goes as
                             text, anything else as JSON */
  int is_error;           /* TOOL_RESULT: the call failed */
} orci_llm_part;

typedef enum orci_llm_role { ORCI_LLM_USER, ORCI_LLM_ASSISTANT } orci_llm_role;

typedef struct orci_llm_message {
  orci_llm_role role;
  const orci_llm_part *parts;
  size_t nparts;
} orci_llm_message;

typedef struct orci_llm_tool {
  const char *name;        /* [a-zA-Z0-9_-]{1,64} */
  const char *description; /* may be NULL */
  const orc_json *schema;  /* JSON Schema of the arguments; NULL: an object
                              without properties */
} orci_llm_tool;

typedef struct orci_llm_conversation {
  const char *system; /* instructions, or NULL */
  const orci_llm_message *messages;
  size_t nmessages;
  const orci_llm_tool *tools;
  size_t ntools;
  int64_t max_tokens; /* 0: not sent (Anthropic, which requires it: 4096) */
  double temperature; /* < 0: not sent */
} orci_llm_conversation;

/* }====== */

/* {====== a model turn (owned by the caller: orci_llm_turn_free) */

typedef enum orci_llm_stop {
  ORCI_LLM_STOP_END_TURN,       /* stop, end_turn */
  ORCI_LLM_STOP_TOOL_USE,       /* tool_calls, tool_use */
  ORCI_LLM_STOP_MAX_TOKENS,     /* length, max_tokens: a tool call in this
                                   turn may be cut: do not run it */
  ORCI_LLM_STOP_STOP_SEQUENCE,  /* stop_sequence */
  ORCI_LLM_STOP_CONTENT_FILTER, /* content_filter, refusal,
                                   guardrail_intervened, content_filtered */
  ORCI_LLM_STOP_OTHER           /* anything else: see stop_raw */
} orci_llm_stop;

typedef struct orci_llm_tool_call {
  char *id; /* the provider's id (synthesized "call_N" when a
               compatible server sent none) */
  char *name;
  orc_json *arguments;  /* owned; NULL when the model's arguments were not
                           a JSON object (arguments_text says what came) */
  char *arguments_text; /* owned: the arguments as the model sent them */
} orci_llm_tool_call;

/* Token counts; -1 when the provider did not say. input_tokens excludes
** the cached parts, so input + cache_read + cache_write is the whole
** prompt (OpenAI's prompt_tokens includes cached_tokens: we subtract). */
typedef struct orci_llm_usage {
  int64_t input_tokens;
  int64_t output_tokens;
  int64_t cache_read_tokens;
  int64_t cache_write_tokens;
} orci_llm_usage;

typedef struct orci_llm_turn {
  char *text;                /* the text parts joined, or NULL */
  orci_llm_tool_call *calls; /* the model wants these run when ncalls > 0,
                                whatever stop says (Ollama answers "stop") */
  size_t ncalls;
  orci_llm_stop stop;
  char *stop_raw; /* the provider's own stop reason, or NULL */
  orci_llm_usage usage;
  char *model; /* the model that answered, if said */
  char *id;    /* the response id, if any */
} orci_llm_turn;

/* Frees what t owns and zeroes it; NULL and a zeroed turn are no-ops. */
void orci_llm_turn_free(orci_llm_turn *t);

/* }====== */

/* {====== errors and retries */

typedef struct orci_llm_error {
  const char *name;      /* ORCI_LLM_MODEL_ERROR: the error a Catch sees */
  int status;            /* HTTP status, 0 when no response arrived */
  char type[64];         /* the provider's error type ("rate_limit_error",
                            "ThrottlingException", "invalid_request_error")
                            or ours: "ConnectionRefused", "ConnectionDropped",
                            "Timeout", "TruncatedResponse",
                            "MalformedResponse", "TransportError" */
  char message[512];     /* "<provider> <status>: <provider's message>",
                            scrubbed of secrets */
  int retryable;         /* 429, 503, 529, 500/502/504, refused or dropped
                            connections, timeouts, cut bodies */
  double retry_after_ms; /* from Retry-After / retry-after-ms; -1: none */
} orci_llm_error;

typedef struct orci_llm_retry {
  int max_attempts; /* attempts in all, the first included (default 3) */
  double base_ms;   /* first back-off (default 1000) */
  double max_ms;    /* cap of one back-off and of a Retry-After
                       (default 60000) */
  double jitter;    /* 0..1: fraction of the back-off randomized
                       (default 0.25) */
} orci_llm_retry;

/* The delay before attempt `attempt + 1` (attempt counts the attempts made
** so far, >= 1) after error e (borrowed): -1 when e is not retryable or the
** attempts are used up; else Retry-After when the provider gave one
** (capped at max_ms), or base_ms * 2^(attempt-1) capped at max_ms, minus
** up to jitter of it, with random01 in [0, 1) choosing how much. policy
** may be NULL (defaults). Deterministic: the caller supplies the
** randomness (the engine's seeded source under a virtual clock). */
double orci_llm_retry_delay(const orci_llm_error *e, int attempt,
                            const orci_llm_retry *policy, double random01);

/* Parse a Retry-After value (len bytes, borrowed): delay-seconds ("120",
** "1.5") or an HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT",
** RFC 850 or asctime), relative to now_unix (seconds since the epoch).
** Returns milliseconds >= 0 (a date in the past gives 0), or -1 when the
** value is neither. */
double orci_llm_parse_retry_after(const char *value, size_t len,
                                  double now_unix);

/* }====== */

/* {====== providers */

typedef enum orci_llm_kind {
  ORCI_LLM_OPENAI,
  ORCI_LLM_ANTHROPIC,
  ORCI_LLM_BEDROCK
} orci_llm_kind;

/* What a model declaration says. NULL fields fall back to the environment
** (through getenv below) and then to the defaults named here. */
typedef struct orci_llm_config {
  orci_llm_kind kind;
  const char *model;    /* required: "gpt-4o-mini", "claude-sonnet-4-5",
                           "anthropic.claude-3-5-haiku-20241022-v1:0" */
  const char *base_url; /* OpenAI: "https://api.openai.com/v1" (POST
                           {base_url}/chat/completions); Anthropic:
                           "https://api.anthropic.com" (POST
                           {base_url}/v1/messages) */
  const char *api_key;  /* OpenAI: OPENAI_API_KEY, else none (local
                           servers); Anthropic: ANTHROPIC_API_KEY
                           (required) */
  const char *anthropic_version; /* "2023-06-01" */
  const char *region;            /* Bedrock: AWS_REGION, AWS_DEFAULT_REGION */
  const char *endpoint_url;      /* Bedrock: AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
                                    AWS_ENDPOINT_URL, else
                                    https://bedrock-runtime.{region}.amazonaws.com */
  const char *access_key_id;     /* Bedrock: AWS_ACCESS_KEY_ID */
  const char *secret_access_key; /* Bedrock: AWS_SECRET_ACCESS_KEY */
  const char *session_token;     /* Bedrock: AWS_SESSION_TOKEN (only when
                                    the key id came from the environment
                                    too, as the AWS SDKs do) */
} orci_llm_config;

/* getenv's shape, so tests and hosts can supply the environment; NULL
** means the process's getenv. Returns a borrowed string or NULL. */
typedef const char *(*orci_getenv)(void *ud, const char *name);

typedef struct orci_llm_provider orci_llm_provider;

/* CONSTRUCTOR. cfg (borrowed) is resolved against the environment now and
** copied. On ORC_OK *out owns the provider (orci_llm_provider_free). On
** ORC_EINVAL err says what is missing or malformed ("bedrock: no region:
** set region or AWS_REGION"), never quoting a secret. */
int orci_llm_provider_new(const orci_llm_config *cfg, orci_getenv getenv_fn,
                          void *getenv_ud, orci_llm_provider **out,
                          orc_error *err);

/* DESTRUCTOR. Wipes the secrets. NULL is a no-op. */
void orci_llm_provider_free(orci_llm_provider *P);

/* "openai", "anthropic" or "bedrock" (the gen_ai.provider.name values are
** "openai", "anthropic", "aws.bedrock": see orci_llm_provider_otel_name). */
const char *orci_llm_provider_name(const orci_llm_provider *P);
const char *orci_llm_provider_otel_name(const orci_llm_provider *P);
/* The model (or Bedrock model id) requests name. */
const char *orci_llm_provider_model(const orci_llm_provider *P);

/* A request ready for orci_http_request. Owned (orci_llm_http_free, which
** wipes the headers: they may hold keys). */
typedef struct orci_llm_http {
  char *url;
  char **headers; /* "Name: value" lines */
  size_t nheaders;
  char *body; /* JSON text */
  size_t body_len;
} orci_llm_http;

/* Build the request for conversation c (borrowed) to provider P. now_unix
** (seconds since the epoch) dates the Bedrock signature; the others ignore
** it. On ORC_OK *out owns the request. ORC_EINVAL when the conversation
** cannot be expressed (a tool result answering nothing is the provider's
** to reject; an empty tool name, a TOOL_USE without id, or a part of the
** wrong role are ours), ORC_ENOMEM. */
int orci_llm_build(const orci_llm_provider *P, const orci_llm_conversation *c,
                   int64_t now_unix, orci_llm_http *out, orc_error *err);

/* Frees and wipes r; NULL and a zeroed r are no-ops. */
void orci_llm_http_free(orci_llm_http *r);

/* Views r (borrowed) as an HTTP request with timeout_ms; the views live as
** long as r. */
void orci_llm_http_as_req(const orci_llm_http *r, long timeout_ms,
                          orci_http_req *out);

/* Read a finished transfer (borrowed): a transport failure, an HTTP error
** or a 200 answer. On ORC_OK *turn owns the model's turn. Otherwise
** returns ORC_EHTTP and fills *e (named ORCI_LLM_MODEL_ERROR, with the
** provider's type, message and status; retry hints from Retry-After
** relative to now_unix); *turn is zeroed. */
int orci_llm_parse(const orci_llm_provider *P, const orci_http_response *res,
                   double now_unix, orci_llm_turn *turn, orci_llm_error *e);

/* }====== */

#endif
