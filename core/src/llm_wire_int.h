/*
** Between the llm files only: the provider's layout, the three wire
** formats' builders and parsers, and small shared helpers.
*/
#ifndef ORCHESTRA_LLM_WIRE_INT_H
#define ORCHESTRA_LLM_WIRE_INT_H

#include "json_int.h"
#include "llm_int.h"

struct orci_llm_provider {
  orci_llm_kind kind;
  char *model;
  char *url;               /* the endpoint, complete */
  char *host;              /* Bedrock: the Host header ("h" or "h:port") */
  char *path;              /* Bedrock: the request path as sent */
  char *api_key;           /* OpenAI (may be NULL), Anthropic: secret */
  char *anthropic_version; /* Anthropic */
  char *region;            /* Bedrock */
  char *access_key_id;     /* Bedrock */
  char *secret_access_key; /* Bedrock: secret */
  char *session_token;     /* Bedrock: secret, may be NULL */
};

/* Request bodies: append the JSON text of c to b. ORC_OK or ORC_EINVAL. */
int orci_llm_openai_body(const orci_llm_provider *P,
                         const orci_llm_conversation *c, orci_buf *b,
                         orc_error *err);
int orci_llm_anthropic_body(const orci_llm_provider *P,
                            const orci_llm_conversation *c, orci_buf *b,
                            orc_error *err);
int orci_llm_bedrock_body(const orci_llm_provider *P,
                          const orci_llm_conversation *c, orci_buf *b,
                          orc_error *err);

/* A 2xx body (borrowed, parsed) into *t. ORC_OK, or ORC_EHTTP with e set
** (MalformedResponse: the JSON lacks what the format promises). */
int orci_llm_openai_turn(const orc_json *body, orci_llm_turn *t,
                         orci_llm_error *e);
int orci_llm_anthropic_turn(const orc_json *body, orci_llm_turn *t,
                            orci_llm_error *e);
int orci_llm_bedrock_turn(const orc_json *body, orci_llm_turn *t,
                          orci_llm_error *e);

/* An error response: the provider's type and message (body may be NULL
** when it was not JSON) into e->type and *msg (a view into body). */
void orci_llm_openai_error(const orc_json *body, orci_llm_error *e,
                           const char **msg);
void orci_llm_anthropic_error(const orc_json *body, orci_llm_error *e,
                              const char **msg);
void orci_llm_bedrock_error(const orci_http_response *res, const orc_json *body,
                            orci_llm_error *e, const char **msg);

/* {====== helpers (llm.c) */

char *orci_llm_strdup(const char *s);        /* owned copy, NULL on NULL */
char *orci_strndup(const char *s, size_t n); /* owned copy of n bytes */

/* Member key of object o when it has type t, else NULL. */
orc_json *orci_llm_jget(const orc_json *o, const char *key, orc_json_type t);
/* Member key as a string view, or NULL. */
const char *orci_llm_jstr(const orc_json *o, const char *key);
/* Member key as an integer (floats truncated), or -1. */
int64_t orci_llm_jcount(const orc_json *o, const char *key);

/* Append "key": to b. */
void orci_llm_key(orci_buf *b, const char *key);
/* Append s as a JSON string (NULL as ""). */
void orci_llm_str(orci_buf *b, const char *s);
/* Append a tool result as text: a string as is, else its JSON text. */
void orci_llm_result_text(orci_buf *b, const orc_json *v);
/* Append a tool's schema, or an empty object schema when NULL. */
void orci_llm_schema(orci_buf *b, const orc_json *schema);

/* Append text t to the turn's text (joined with "\n"). -1 out of memory. */
int orci_llm_turn_add_text(orci_llm_turn *t, const char *s, size_t n);
/* Add a tool call; args (taken) may be NULL; args_text is copied. */
int orci_llm_turn_add_call(orci_llm_turn *t, const char *id, const char *name,
                           orc_json *args, const char *args_text,
                           size_t args_len);
/* Map a provider's stop string and keep it. */
int orci_llm_turn_set_stop(orci_llm_turn *t, const char *raw);

/* Fill e as a MalformedResponse (not retryable). Returns ORC_EHTTP. */
int orci_llm_malformed(orci_llm_error *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* }====== */

#endif
