/*
** Providers without a network: each builder's URL, headers and body for one
** conversation (golden JSON in fixtures/llm), each parser on the wire
** examples of the providers' documentation, error bodies of each shape,
** Retry-After in both forms, the retry policy, configuration from the
** environment, and secrets kept out of every error.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_int.h"

#include "check.h"

#ifndef ORC_TEST_FIXTURES
#define ORC_TEST_FIXTURES "core/tests/fixtures"
#endif

static orc_json *parse(const char *text) {
  orc_json *v = NULL;
  orc_error err;
  if (orc_json_parse(text, strlen(text), NULL, &v, &err) != ORC_OK) {
    fprintf(stderr, "bad test JSON: %s\n", err.message);
    return NULL;
  }
  return v;
}

static char *slurp(const char *name) {
  char path[1024];
  FILE *f;
  char *p = NULL;
  long n;
  snprintf(path, sizeof path, "%s/llm/%s", ORC_TEST_FIXTURES, name);
  f = fopen(path, "rb");
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (p = (char *)malloc((size_t)n + 1))) {
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
      free(p);
      p = NULL;
    } else {
      p[n] = '\0';
    }
  }
  fclose(f);
  return p;
}

/* A fake environment: NAME=value pairs. */
static const char *fake_env(void *ud, const char *name) {
  const char **kv = (const char **)ud;
  for (; kv && kv[0]; kv += 2)
    if (strcmp(kv[0], name) == 0) return kv[1];
  return NULL;
}

static const char *no_env[] = {NULL};

/* {====== one conversation, three bodies */

static orc_json *schema_order, *args42, *args_paris, *result_order, *result_err;

static orci_llm_part user1[] = {
    {ORCI_LLM_TEXT, "Where is order 42?", NULL, NULL, NULL, NULL, NULL, 0}};
static orci_llm_part asst1[3];
static orci_llm_part user2[3];
static orci_llm_message msgs[3];
static orci_llm_tool tools[2];

static void make_conversation(orci_llm_conversation *c) {
  schema_order = parse("{\"type\":\"object\",\"properties\":{\"order_id\":{"
                       "\"type\":\"integer\"}},\"required\":[\"order_id\"]}");
  args42 = parse("{\"order_id\":42}");
  args_paris = parse("{\"city\":\"Paris\"}");
  result_order = parse("{\"status\":\"shipped\",\"eta\":\"2025-12-02\"}");
  result_err = orc_json_string("unknown city", 12);
  memset(asst1, 0, sizeof asst1);
  memset(user2, 0, sizeof user2);
  asst1[0].type = ORCI_LLM_TEXT;
  asst1[0].text = "Let me check.";
  asst1[1].type = ORCI_LLM_TOOL_USE;
  asst1[1].id = "call_a1";
  asst1[1].name = "lookup_order";
  asst1[1].input = args42;
  asst1[2].type = ORCI_LLM_TOOL_USE;
  asst1[2].id = "call_b2";
  asst1[2].name = "weather";
  asst1[2].input = args_paris;
  asst1[2].input_text = "{\"city\": \"Paris\"}";
  /* the text first on purpose: builders put tool results before it */
  user2[0].type = ORCI_LLM_TEXT;
  user2[0].text = "Thanks.";
  user2[1].type = ORCI_LLM_TOOL_RESULT;
  user2[1].id = "call_a1";
  user2[1].result = result_order;
  user2[2].type = ORCI_LLM_TOOL_RESULT;
  user2[2].id = "call_b2";
  user2[2].result = result_err;
  user2[2].is_error = 1;
  msgs[0].role = ORCI_LLM_USER;
  msgs[0].parts = user1;
  msgs[0].nparts = 1;
  msgs[1].role = ORCI_LLM_ASSISTANT;
  msgs[1].parts = asst1;
  msgs[1].nparts = 3;
  msgs[2].role = ORCI_LLM_USER;
  msgs[2].parts = user2;
  msgs[2].nparts = 3;
  tools[0].name = "lookup_order";
  tools[0].description = "Fetch an order by id";
  tools[0].schema = schema_order;
  tools[1].name = "weather";
  tools[1].description = NULL;
  tools[1].schema = NULL;
  memset(c, 0, sizeof *c);
  c->system = "You are an order assistant.";
  c->messages = msgs;
  c->nmessages = 3;
  c->tools = tools;
  c->ntools = 2;
  c->max_tokens = 512;
  c->temperature = 0;
}

static void free_conversation(void) {
  orc_json_unref(schema_order);
  orc_json_unref(args42);
  orc_json_unref(args_paris);
  orc_json_unref(result_order);
  orc_json_unref(result_err);
}

static int has_header(const orci_llm_http *r, const char *line) {
  size_t i;
  for (i = 0; i < r->nheaders; i++)
    if (strcmp(r->headers[i], line) == 0) return 1;
  return 0;
}

static const char *header_value(const orci_llm_http *r, const char *name) {
  size_t i, n = strlen(name);
  for (i = 0; i < r->nheaders; i++)
    if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
      return r->headers[i] + n + 2;
  return NULL;
}

/* The built body equals fixtures/llm/<golden> (its JSON, compared as
** text after reprinting both compactly). */
static void check_golden(const orci_llm_http *r, const char *golden) {
  char *want_text = slurp(golden);
  orc_json *want = want_text ? parse(want_text) : NULL;
  orc_json *got = parse(r->body);
  char *w = want ? orc_json_print(want, 0, NULL) : NULL;
  CHECK(want != NULL && got != NULL);
  CHECK(w && strcmp(w, r->body) == 0);
  if (w && strcmp(w, r->body) != 0)
    fprintf(stderr, "%s:\n--- got:\n%s\n--- want:\n%s\n", golden, r->body, w);
  orc_free(w);
  orc_json_unref(want);
  orc_json_unref(got);
  free(want_text);
}

static void check_builders(void) {
  orci_llm_conversation c;
  orci_llm_config cfg;
  orci_llm_provider *P = NULL;
  orci_llm_http r;
  orc_error err;
  const char *aws_env[] = {"AWS_ACCESS_KEY_ID",
                           "AKIDEXAMPLE",
                           "AWS_SECRET_ACCESS_KEY",
                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                           "AWS_SESSION_TOKEN",
                           "SESSIONTOKEN123",
                           "AWS_REGION",
                           "eu-west-3",
                           NULL};
  const char *auth;
  make_conversation(&c);

  /* OpenAI-compatible, the key from the environment */
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = ORCI_LLM_OPENAI;
  cfg.model = "gpt-4o-mini";
  cfg.base_url = "http://127.0.0.1:8080/v1/";
  {
    const char *e[] = {"OPENAI_API_KEY", "sk-test-123456", NULL};
    CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)e, &P, &err) == ORC_OK);
  }
  CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_OK);
  CHECK(strcmp(r.url, "http://127.0.0.1:8080/v1/chat/completions") == 0);
  CHECK(has_header(&r, "Authorization: Bearer sk-test-123456"));
  CHECK(has_header(&r, "Content-Type: application/json"));
  check_golden(&r, "openai_request.json");
  orci_llm_http_free(&r);
  orci_llm_provider_free(P);
  /* no key at all: no Authorization header (llama.cpp, Ollama) */
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_OK);
  CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_OK);
  CHECK(header_value(&r, "Authorization") == NULL);
  orci_llm_http_free(&r);
  orci_llm_provider_free(P);

  /* Anthropic */
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = ORCI_LLM_ANTHROPIC;
  cfg.model = "claude-sonnet-4-5";
  cfg.api_key = "sk-ant-test-999";
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_OK);
  CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_OK);
  CHECK(strcmp(r.url, "https://api.anthropic.com/v1/messages") == 0);
  CHECK(has_header(&r, "x-api-key: sk-ant-test-999"));
  CHECK(has_header(&r, "anthropic-version: 2023-06-01"));
  check_golden(&r, "anthropic_request.json");
  orci_llm_http_free(&r);
  orci_llm_provider_free(P);

  /* Bedrock: credentials, region from the environment; signed */
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = ORCI_LLM_BEDROCK;
  cfg.model = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)aws_env, &P, &err) ==
        ORC_OK);
  CHECK(orci_llm_build(P, &c, 1440938160, &r, &err) == ORC_OK);
  CHECK(strcmp(r.url, "https://bedrock-runtime.eu-west-3.amazonaws.com/model/"
                      "us.anthropic.claude-3-5-haiku-20241022-v1%3A0/"
                      "converse") == 0);
  CHECK(has_header(&r, "Host: bedrock-runtime.eu-west-3.amazonaws.com"));
  CHECK(has_header(&r, "X-Amz-Date: 20150830T123600Z"));
  CHECK(has_header(&r, "X-Amz-Security-Token: SESSIONTOKEN123"));
  auth = header_value(&r, "Authorization");
  {
    static const char want[] =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-3/bedrock/"
        "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
        "x-amz-security-token, Signature=";
    CHECK(auth && strncmp(auth, want, sizeof want - 1) == 0 &&
          strlen(auth) == sizeof want - 1 + 64);
  }
  CHECK(auth && strstr(auth, "EXAMPLEKEY") == NULL);
  check_golden(&r, "bedrock_request.json");
  orci_llm_http_free(&r);
  orci_llm_provider_free(P);

  /* endpoint from AWS_ENDPOINT_URL_BEDROCK_RUNTIME over AWS_ENDPOINT_URL */
  {
    const char *e[] = {"AWS_ACCESS_KEY_ID",
                       "AK",
                       "AWS_SECRET_ACCESS_KEY",
                       "SK",
                       "AWS_DEFAULT_REGION",
                       "us-east-1",
                       "AWS_ENDPOINT_URL",
                       "http://127.0.0.1:1/",
                       "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
                       "http://127.0.0.1:4566/base/",
                       NULL};
    cfg.model = "arn:aws:bedrock:us-east-1:1:inference-profile/x";
    CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)e, &P, &err) == ORC_OK);
    CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_OK);
    CHECK(strcmp(r.url,
                 "http://127.0.0.1:4566/base/model/arn%3Aaws%3Abedrock"
                 "%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse") == 0);
    CHECK(has_header(&r, "Host: 127.0.0.1:4566"));
    CHECK(header_value(&r, "X-Amz-Security-Token") == NULL);
    orci_llm_http_free(&r);
    orci_llm_provider_free(P);
  }
  free_conversation();
}

static void check_bad_config(void) {
  orci_llm_config cfg;
  orci_llm_provider *P = (orci_llm_provider *)&cfg;
  orc_error err;
  const char *half[] = {"AWS_ACCESS_KEY_ID", "AK", "AWS_REGION", "r", NULL};
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = ORCI_LLM_OPENAI;
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_EINVAL);
  CHECK(P == NULL);
  CHECK(strcmp(err.message, "openai: no model: set model") == 0);
  cfg.model = "m";
  cfg.base_url = "127.0.0.1:8080";
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_EINVAL);
  CHECK(strcmp(err.message, "openai: base_url must start with http:// or "
                            "https://: 127.0.0.1:8080") == 0);
  cfg.kind = ORCI_LLM_ANTHROPIC;
  cfg.base_url = NULL;
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_EINVAL);
  CHECK(strcmp(err.message,
               "anthropic: no API key: set api_key or ANTHROPIC_API_KEY") == 0);
  cfg.kind = ORCI_LLM_BEDROCK;
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_EINVAL);
  CHECK(strcmp(err.message, "bedrock: no region: set region or AWS_REGION") ==
        0);
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)half, &P, &err) ==
        ORC_EINVAL);
  CHECK(strstr(err.message, "bedrock: no AWS credentials") == err.message);
}

/* Conversations a builder refuses. */
static void check_bad_conversation(void) {
  orci_llm_config cfg;
  orci_llm_provider *P;
  orci_llm_http r;
  orc_error err;
  orci_llm_part use = {ORCI_LLM_TOOL_USE, NULL, NULL, "f", NULL, NULL, NULL, 0};
  orci_llm_message m = {ORCI_LLM_ASSISTANT, &use, 1};
  orci_llm_conversation c;
  memset(&cfg, 0, sizeof cfg);
  memset(&c, 0, sizeof c);
  cfg.kind = ORCI_LLM_OPENAI;
  cfg.model = "m";
  CHECK(orci_llm_provider_new(&cfg, fake_env, (void *)no_env, &P, &err) ==
        ORC_OK);
  c.temperature = -1;
  CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_EINVAL);
  CHECK(strcmp(err.message, "llm: no messages to send") == 0);
  c.messages = &m;
  c.nmessages = 1;
  CHECK(orci_llm_build(P, &c, 0, &r, &err) == ORC_EINVAL);
  CHECK(strcmp(err.message, "llm: message 1 part 1: a tool use needs the "
                            "assistant role, an id and a name") == 0);
  CHECK(r.body == NULL && r.headers == NULL);
  orci_llm_provider_free(P);
}

/* }====== */

/* {====== parsing */

static orci_llm_provider *provider(orci_llm_kind kind, const char *key) {
  orci_llm_config cfg;
  orci_llm_provider *P = NULL;
  const char *aws[] = {"AWS_ACCESS_KEY_ID",
                       "AKID",
                       "AWS_SECRET_ACCESS_KEY",
                       "very-secret-aws-key",
                       "AWS_SESSION_TOKEN",
                       "session-token-xyz",
                       "AWS_REGION",
                       "us-east-1",
                       NULL};
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = kind;
  cfg.model = "m";
  cfg.api_key = key;
  orci_llm_provider_new(&cfg, fake_env, (void *)aws, &P, NULL);
  return P;
}

static orci_http_response response(int status, const char *headers,
                                   const char *body) {
  orci_http_response r;
  memset(&r, 0, sizeof r);
  r.status = status;
  r.headers = headers;
  r.headers_len = strlen(headers);
  r.body = body;
  r.body_len = strlen(body);
  r.message = "";
  return r;
}

static void check_turns(void) {
  orci_llm_provider *P = provider(ORCI_LLM_OPENAI, NULL);
  orci_llm_turn t;
  orci_llm_error e;
  orci_http_response r;
  char *body;

  body = slurp("openai_response.json");
  r = response(200, "HTTP/1.1 200 OK\r\n\r\n", body ? body : "");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.text && strcmp(t.text, "Checking both.") == 0);
  CHECK(t.ncalls == 3);
  CHECK(t.stop == ORCI_LLM_STOP_TOOL_USE);
  CHECK(t.stop_raw && strcmp(t.stop_raw, "tool_calls") == 0);
  if (t.ncalls == 3) {
    char *a = orc_json_print(t.calls[0].arguments, 0, NULL);
    CHECK(strcmp(t.calls[0].id, "call_a1") == 0);
    CHECK(strcmp(t.calls[0].name, "lookup_order") == 0);
    CHECK(a && strcmp(a, "{\"order_id\":42}") == 0);
    orc_free(a);
    CHECK(strcmp(t.calls[1].arguments_text, "{\"city\": \"Par") == 0);
    CHECK(t.calls[1].arguments == NULL); /* not JSON: the loop says so */
    CHECK(strcmp(t.calls[2].id, "call_3") == 0); /* synthesized */
    CHECK(t.calls[2].arguments != NULL &&
          orc_json_len(t.calls[2].arguments) == 0);
  }
  CHECK(t.usage.input_tokens == 150 && t.usage.cache_read_tokens == 30);
  CHECK(t.usage.output_tokens == 21 && t.usage.cache_write_tokens == 0);
  CHECK(t.model && strcmp(t.model, "qwen2.5-7b-instruct") == 0);
  orci_llm_turn_free(&t);
  orci_llm_turn_free(&t); /* idempotent */
  free(body);
  /* a compatible server with object arguments, no usage, no reason */
  r = response(200, "",
               "{\"choices\":[{\"message\":{\"role\":\"assistant\","
               "\"content\":null,\"tool_calls\":[{\"id\":\"x\",\"function\":"
               "{\"name\":\"f\",\"arguments\":{\"a\":[1]}}}]}}]}");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.text == NULL && t.ncalls == 1 && t.stop == ORCI_LLM_STOP_TOOL_USE);
  CHECK(t.stop_raw == NULL && t.usage.input_tokens == -1);
  CHECK(t.ncalls == 1 && strcmp(t.calls[0].arguments_text, "{\"a\":[1]}") == 0);
  orci_llm_turn_free(&t);
  orci_llm_provider_free(P);

  P = provider(ORCI_LLM_ANTHROPIC, "k-anthropic");
  body = slurp("anthropic_response.json");
  r = response(200, "", body ? body : "");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.text && strcmp(t.text, "Let me check.") == 0);
  CHECK(t.ncalls == 2 && t.stop == ORCI_LLM_STOP_TOOL_USE);
  CHECK(t.ncalls == 2 && strcmp(t.calls[1].id, "toolu_02") == 0 &&
        strcmp(t.calls[1].arguments_text, "{\"city\":\"Paris\"}") == 0);
  CHECK(t.usage.input_tokens == 402 && t.usage.output_tokens == 48);
  CHECK(t.usage.cache_read_tokens == 100 && t.usage.cache_write_tokens == 7);
  CHECK(t.id && strcmp(t.id, "msg_01") == 0);
  orci_llm_turn_free(&t);
  free(body);
  r = response(200, "",
               "{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":"
               "\"thinking\",\"thinking\":\"t\"},{\"type\":\"text\",\"text\":"
               "\"b\"}],\"stop_reason\":\"max_tokens\",\"usage\":{"
               "\"input_tokens\":1,\"output_tokens\":2}}");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.text && strcmp(t.text, "a\nb") == 0);
  CHECK(t.stop == ORCI_LLM_STOP_MAX_TOKENS && t.usage.cache_read_tokens == 0);
  orci_llm_turn_free(&t);
  orci_llm_provider_free(P);

  P = provider(ORCI_LLM_BEDROCK, NULL);
  body = slurp("bedrock_response.json");
  r = response(200, "", body ? body : "");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.text && strcmp(t.text, "Checking.") == 0);
  CHECK(t.ncalls == 2 && strcmp(t.calls[0].id, "tooluse_k3") == 0);
  CHECK(t.stop == ORCI_LLM_STOP_TOOL_USE);
  CHECK(t.usage.input_tokens == 395 && t.usage.output_tokens == 44 &&
        t.usage.cache_read_tokens == 5 && t.usage.cache_write_tokens == 0);
  orci_llm_turn_free(&t);
  free(body);
  r = response(200, "",
               "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
               "[{\"text\":\"no\"}]}},\"stopReason\":\"guardrail_intervened\","
               "\"usage\":{\"inputTokens\":3,\"outputTokens\":1}}");
  CHECK(orci_llm_parse(P, &r, 0, &t, &e) == ORC_OK);
  CHECK(t.stop == ORCI_LLM_STOP_CONTENT_FILTER);
  orci_llm_turn_free(&t);
  orci_llm_provider_free(P);
}

/* Parse r with P and expect an error of type and message (exact). */
static void expect_error(orci_llm_provider *P, orci_http_response r,
                         const char *type, const char *message, int retryable,
                         double retry_after_ms) {
  orci_llm_turn t;
  orci_llm_error e;
  CHECK(orci_llm_parse(P, &r, 1000000000, &t, &e) == ORC_EHTTP);
  CHECK(strcmp(e.name, "Agent.ModelError") == 0);
  CHECK(strcmp(e.type, type) == 0);
  CHECK(strcmp(e.message, message) == 0);
  CHECK(e.retryable == retryable);
  CHECK(e.retry_after_ms == retry_after_ms);
  CHECK(e.status == r.status);
  CHECK(t.text == NULL && t.calls == NULL);
  if (strcmp(e.type, type) != 0 || strcmp(e.message, message) != 0 ||
      e.retryable != retryable || e.retry_after_ms != retry_after_ms)
    fprintf(stderr, "  got %s / %s / retryable %d / after %g\n", e.type,
            e.message, e.retryable, e.retry_after_ms);
}

static void check_errors(void) {
  orci_llm_provider *oa = provider(ORCI_LLM_OPENAI, "sk-secret-key-1");
  orci_llm_provider *an = provider(ORCI_LLM_ANTHROPIC, "sk-ant-secret-2");
  orci_llm_provider *br = provider(ORCI_LLM_BEDROCK, NULL);
  orci_http_response r;

  expect_error(oa,
               response(429, "HTTP/1.1 429\r\nRetry-After: 2\r\n",
                        "{\"error\":{\"message\":\"Rate limit reached\","
                        "\"type\":\"requests\",\"param\":null,\"code\":"
                        "\"rate_limit_exceeded\"}}"),
               "rate_limit_exceeded",
               "openai 429 rate_limit_exceeded: Rate limit reached", 1, 2000);
  expect_error(oa,
               response(429, "",
                        "{\"error\":{\"message\":\"You exceeded your current "
                        "quota\",\"type\":\"insufficient_quota\",\"code\":"
                        "\"insufficient_quota\"}}"),
               "insufficient_quota",
               "openai 429 insufficient_quota: You exceeded your current "
               "quota",
               0, -1);
  /* the key echoed back by a server never reaches the message */
  expect_error(oa,
               response(401, "",
                        "{\"error\":{\"message\":\"Incorrect API key "
                        "provided: sk-secret-key-1.\",\"type\":"
                        "\"invalid_request_error\",\"code\":null}}"),
               "invalid_request_error",
               "openai 401 invalid_request_error: Incorrect API key "
               "provided: [redacted].",
               0, -1);
  /* vLLM's flat shape with an integer code; Ollama's string */
  expect_error(oa,
               response(400, "",
                        "{\"object\":\"error\",\"message\":\"bad tool\","
                        "\"type\":\"BadRequestError\",\"code\":400}"),
               "BadRequestError", "openai 400 BadRequestError: bad tool", 0,
               -1);
  expect_error(oa, response(404, "", "{\"error\":\"model 'x' not found\"}"),
               "HTTP404", "openai 404 HTTP404: model 'x' not found", 0, -1);
  expect_error(oa, response(502, "", "<html>Bad\ngateway</html>"), "HTTP502",
               "openai 502 HTTP502: <html>Bad gateway</html>", 1, -1);
  /* retry-after-ms wins; x-should-retry overrides the status */
  expect_error(oa,
               response(500,
                        "retry-after-ms: 250\r\nretry-after: 9\r\n"
                        "x-should-retry: false\r\n",
                        "{}"),
               "HTTP500", "openai 500 HTTP500: {}", 0, 250);

  expect_error(an,
               response(529, "",
                        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_"
                        "error\",\"message\":\"Overloaded\"},\"request_id\":"
                        "\"req_1\"}"),
               "overloaded_error", "anthropic 529 overloaded_error: Overloaded",
               1, -1);
  /* an HTTP-date Retry-After: 30 s after now (1e9 = 2001-09-09T01:46:40Z) */
  expect_error(an,
               response(503, "Retry-After: Sun, 09 Sep 2001 01:47:10 GMT\r\n",
                        "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
                        "\"message\":\"down\"}}"),
               "api_error", "anthropic 503 api_error: down", 1, 30000);
  expect_error(an,
               response(400, "",
                        "{\"type\":\"error\",\"error\":{\"type\":\"invalid_"
                        "request_error\",\"message\":\"max_tokens: Field "
                        "required\"}}"),
               "invalid_request_error",
               "anthropic 400 invalid_request_error: max_tokens: Field "
               "required",
               0, -1);

  expect_error(br,
               response(429,
                        "x-amzn-ErrorType: ThrottlingException:http://"
                        "internal.amazon.com/coral/com.amazon.bedrock/\r\n",
                        "{\"message\":\"Too many requests\"}"),
               "ThrottlingException",
               "bedrock 429 ThrottlingException: Too many requests", 1, -1);
  expect_error(br,
               response(403, "",
                        "{\"__type\":\"com.amazon.coral#InvalidSignature"
                        "Exception\",\"Message\":\"sig for very-secret-aws-"
                        "key and session-token-xyz\"}"),
               "InvalidSignatureException",
               "bedrock 403 InvalidSignatureException: sig for [redacted] "
               "and [redacted]",
               0, -1);

  /* malformed and incomplete 200s */
  expect_error(oa, response(200, "", "{\"choices\": [ {\"message\": "),
               "MalformedResponse",
               "openai 200: the response is not JSON: invalid JSON at byte 26 "
               "(line 1, column 27): unexpected end of input; near: "
               "...choices\": [ {\"message\":  >>> ",
               0, -1);
  expect_error(an, response(200, "", "{\"id\":\"x\"}"), "MalformedResponse",
               "anthropic 200: the response has no content list", 0, -1);
  expect_error(br, response(200, "", "{\"output\":{}}"), "MalformedResponse",
               "bedrock 200: the response has no output.message.content", 0,
               -1);
  expect_error(oa,
               response(200, "", "{\"error\":{\"message\":\"overloaded\"}}"),
               "MalformedResponse",
               "openai 200: an error in a 2xx response: overloaded", 0, -1);

  /* transport failures */
  r = response(0, "", "");
  r.error = ORCI_HTTP_REFUSED;
  r.message = "connection refused: Failed to connect to 127.0.0.1 port 9";
  expect_error(br, r, "ConnectionRefused",
               "bedrock: connection refused: Failed to connect to 127.0.0.1 "
               "port 9",
               1, -1);
  r.error = ORCI_HTTP_TIMEOUT;
  r.message = "timeout: Operation timed out after 100 milliseconds";
  expect_error(oa, r, "Timeout",
               "openai: timeout: Operation timed out after 100 milliseconds", 1,
               -1);
  r.error = ORCI_HTTP_TLS;
  r.message = "TLS failure: SSL certificate problem";
  expect_error(an, r, "TLSError",
               "anthropic: TLS failure: SSL certificate problem", 0, -1);

  orci_llm_provider_free(oa);
  orci_llm_provider_free(an);
  orci_llm_provider_free(br);
}

static void check_retry(void) {
  const double now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
  orci_llm_error e;
  orci_llm_retry p = {4, 100, 1000, 0.5};
  CHECK(orci_llm_parse_retry_after("120", 3, now) == 120000);
  CHECK(orci_llm_parse_retry_after(" 1.5 ", 5, now) == 1500);
  CHECK(orci_llm_parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", 29, now) ==
        10000);
  CHECK(orci_llm_parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", 30, now) ==
        60000);
  CHECK(orci_llm_parse_retry_after("Sun Nov  6 08:49:39 1994", 24, now) ==
        2000);
  CHECK(orci_llm_parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", 29, now) ==
        0);
  CHECK(orci_llm_parse_retry_after("soon", 4, now) == -1);
  CHECK(orci_llm_parse_retry_after("-5", 2, now) == -1);
  CHECK(orci_llm_parse_retry_after("Sun, 06 Nov 1994 08:49:47 PST", 29, now) ==
        -1);
  CHECK(orci_llm_parse_retry_after("Sun, 32 Nov 1994 08:49:47 GMT", 29, now) ==
        -1);
  CHECK(orci_llm_parse_retry_after("", 0, now) == -1);

  memset(&e, 0, sizeof e);
  e.retryable = 1;
  e.retry_after_ms = -1;
  CHECK(orci_llm_retry_delay(&e, 1, &p, 0) == 100);
  CHECK(orci_llm_retry_delay(&e, 2, &p, 0) == 200);
  CHECK(orci_llm_retry_delay(&e, 3, &p, 0.5) == 400 * 0.75);
  CHECK(orci_llm_retry_delay(&e, 4, &p, 0) == -1); /* attempts used up */
  p.max_attempts = 10;
  CHECK(orci_llm_retry_delay(&e, 8, &p, 0) == 1000); /* capped */
  e.retry_after_ms = 350;
  CHECK(orci_llm_retry_delay(&e, 1, &p, 0.9) == 350);
  e.retry_after_ms = 3600000;
  CHECK(orci_llm_retry_delay(&e, 1, &p, 0) == 1000);
  e.retryable = 0;
  CHECK(orci_llm_retry_delay(&e, 1, &p, 0) == -1);
  e.retryable = 1;
  e.retry_after_ms = -1;
  CHECK(orci_llm_retry_delay(&e, 1, NULL, 0) == 1000); /* defaults */
  CHECK(orci_llm_retry_delay(&e, 3, NULL, 0) == -1);
}

/* }====== */

int main(void) {
  check_builders();
  check_bad_config();
  check_bad_conversation();
  check_turns();
  check_errors();
  check_retry();
  printf("test_llm: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
