/*
** arn:aws:states:::bedrock:invokeModel (orchestra/bedrock.h): the Body goes
** as is to Bedrock's InvokeModel (POST {endpoint}/model/{modelId}/invoke,
** SigV4-signed) through the engine's HTTP client; the answer becomes
** {"Body": ..., "ContentType": "application/json"}, as Step Functions
** returns it, and a refusal becomes Bedrock.<ExceptionName>.
*/
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cost_int.h"
#include "execution_int.h"
#include "llm_wire_int.h"
#include "model_route_int.h"
#include "orchestra/bedrock.h"
#include "orchestra/budget.h"
#include "orchestra/cost.h"
#include "sigv4_int.h"

#define DEFAULT_TIMEOUT_MS 300000

/* A request in flight. The task is retained until the answer arrives, so
** a task abandoned meanwhile (timed out, execution stopped) stays readable
** and the late answer is dropped. */
typedef struct call {
  struct call *prev, *next;
  orc_engine *E;
  orc_task *T;
  orci_llm_provider *P; /* resolved settings and secrets (for scrubbing) */
  uint64_t id;          /* the HTTP request */
} call;

struct orci_bedrock {
  char *region, *endpoint_url, *access_key_id, *secret_access_key,
      *session_token; /* owned copies; NULL: from the environment */
  int64_t timeout_ms;
  call *calls;         /* in flight */
  orci_routes *routes; /* model ids answered by the engine's own models */
};

orci_routes *orci_bedrock_routes(orc_engine *E) {
  return E->bedrock ? E->bedrock->routes : NULL;
}

int orc_engine_route_model(orc_engine *E, const char *prefix,
                           const orc_agent_model *model, const char **resource,
                           orc_error *err) {
  return orci_route_add(E, &E->bedrock->routes, prefix, model, resource, err);
}

static void free_secret(char *s) {
  if (s == NULL) return;
  memset(s, 0, strlen(s));
  free(s);
}

static void settings_clear(struct orci_bedrock *B) {
  free(B->region);
  free(B->endpoint_url);
  free(B->access_key_id);
  free_secret(B->secret_access_key);
  free_secret(B->session_token);
  B->region = B->endpoint_url = B->access_key_id = NULL;
  B->secret_access_key = B->session_token = NULL;
  B->timeout_ms = 0;
}

static int copy_opt(char **dst, const char *src) {
  if (src == NULL || src[0] == '\0') return 0;
  return (*dst = strdup(src)) == NULL ? -1 : 0;
}

int orc_engine_set_bedrock(orc_engine *E, const orc_bedrock_config *cfg,
                           orc_error *err) {
  struct orci_bedrock *B = E->bedrock;
  if (cfg && cfg->endpoint_url && cfg->endpoint_url[0] &&
      strncmp(cfg->endpoint_url, "http://", 7) != 0 &&
      strncmp(cfg->endpoint_url, "https://", 8) != 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: endpoint_url must start with http:// or "
                      "https://: %s",
                      cfg->endpoint_url);
  if (cfg && cfg->timeout_ms < 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: the timeout must be >= 0 ms, not %lld",
                      (long long)cfg->timeout_ms);
  settings_clear(B);
  if (cfg == NULL) return ORC_OK;
  if (copy_opt(&B->region, cfg->region) ||
      copy_opt(&B->endpoint_url, cfg->endpoint_url) ||
      copy_opt(&B->access_key_id, cfg->access_key_id) ||
      copy_opt(&B->secret_access_key, cfg->secret_access_key) ||
      copy_opt(&B->session_token, cfg->session_token)) {
    settings_clear(B);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  B->timeout_ms = cfg->timeout_ms;
  return ORC_OK;
}

/* {====== answers */

static void call_free(call *c) {
  struct orci_bedrock *B = c->E->bedrock;
  if (c->prev)
    c->prev->next = c->next;
  else
    B->calls = c->next;
  if (c->next) c->next->prev = c->prev;
  orci_llm_provider_free(c->P);
  orc_task_release(c->T);
  free(c);
}

static void fail(orc_task *T, const char *error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(orc_task *T, const char *error, const char *fmt, ...) {
  char cause[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cause, sizeof cause, fmt, ap);
  va_end(ap);
  orci_task_complete(T, 0, NULL, error, cause, NULL);
}

/* {====== metering and budgets */

/* The number at body.a (or body.a.b), or -1. */
static double num_at(const orc_json *body, const char *a, const char *b) {
  orc_json *v = orc_json_object_find(body, a, strlen(a));
  if (v && b) v = orc_json_object_find(v, b, strlen(b));
  if (v && (orc_json_type_of(v) == ORC_JSON_INT ||
            orc_json_type_of(v) == ORC_JSON_FLOAT))
    return orc_json_number(v);
  return -1;
}

/* The most output tokens a native request Body asks for, or -1 when it
** names none: max_tokens (Anthropic, Mistral, OpenAI), inferenceConfig.
** maxTokens (Nova), max_gen_len (Llama), textGenerationConfig.
** maxTokenCount (Titan). */
static double body_max_tokens(const orc_json *body) {
  double v;
  if ((v = num_at(body, "max_tokens", NULL)) >= 0 ||
      (v = num_at(body, "inferenceConfig", "maxTokens")) >= 0 ||
      (v = num_at(body, "max_gen_len", NULL)) >= 0 ||
      (v = num_at(body, "textGenerationConfig", "maxTokenCount")) >= 0)
    return v;
  return -1;
}

/* Count a successful call's tokens (the response Body's usage) into the
** execution's meter, as a model call of model: what the budget and
** ex.cost see (a history gives the same through orc_meter_add_history). */
static void meter_usage(orc_task *T, const char *model, const orc_json *body) {
  orc_execution *X = T->X;
  if (X == NULL || X->meter == NULL || model == NULL) return;
  if (orci_meter_invoke_model(X->meter, model, body,
                              (double)orc_engine_now(X->E) / 1000.0) == 1 &&
      X->meter_owned)
    orci_budget_after_unit(X);
}

/* }====== */

/* The types orci_llm_parse gives failures of ours (no exception from the
** service): they fail the task with States.TaskFailed. */
static int is_service_exception(const char *type) {
  static const char *const ours[] = {
      "ConnectionRefused", "ConnectionDropped", "Timeout",
      "TruncatedResponse", "ResponseTooLarge",  "HostNotFound",
      "TLSError",          "TransportError",    "MalformedResponse"};
  size_t i;
  if (type[0] == '\0' || strncmp(type, "HTTP", 4) == 0) return 0;
  for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
    if (strcmp(type, ours[i]) == 0) return 0;
  return 1;
}

static void answered(void *ud, const orci_http_response *res) {
  call *c = (call *)ud;
  orc_task *T = c->T;
  if (orc_task_is_done(T)) { /* timed out or stopped meanwhile */
    call_free(c);
    return;
  }
  if (res->error == ORCI_HTTP_OK && res->status >= 200 && res->status < 300) {
    orc_json *body = NULL, *v[2];
    orc_error jerr;
    static const char *const keys[] = {"Body", "ContentType"};
    if (orc_json_parse(res->body, res->body_len, NULL, &body, &jerr) !=
        ORC_OK) {
      fail(T, "States.TaskFailed",
           "bedrock: the model's response is not JSON: %s", jerr.message);
    } else {
      meter_usage(T, c->P->model, body);
      v[0] = body;
      v[1] = orci_skey("application/json");
      orci_task_complete(T, 1, orci_obj_of(2, keys, v), NULL, NULL, NULL);
    }
  } else {
    orci_llm_turn turn;
    orci_llm_error e;
    orci_llm_parse(c->P, res, (double)time(NULL), &turn, &e);
    orci_llm_turn_free(&turn);
    if (is_service_exception(e.type)) {
      /* e.message is "bedrock <status> <type>: <the service's message>" */
      const char *msg = strstr(e.message, ": "), *rid;
      char error[96];
      size_t n = 0;
      rid = orci_http_header(res, "x-amzn-RequestId", &n);
      snprintf(error, sizeof error, "Bedrock.%s", e.type);
      fail(T, error,
           "%s (Service: BedrockRuntime, Status Code: %d, Request ID: %.*s)",
           msg ? msg + 2 : e.message, res->status, rid ? (int)n : 4,
           rid ? rid : "none");
    } else {
      fail(T, "States.TaskFailed", "%s", e.message);
    }
  }
  call_free(c);
}

/* }====== */

/* {====== requests */

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && v[0] ? v : NULL;
}

/* InvokeModel's path: Converse's with /invoke for /converse. */
static int invoke_path(orci_llm_provider *P) {
  static const char conv[] = "/converse";
  size_t n = strlen(P->path), m = strlen(P->url), k = sizeof conv - 1;
  if (n < k || strcmp(P->path + n - k, conv) != 0 || m < k) return -1;
  strcpy(P->path + n - k, "/invoke");
  strcpy(P->url + m - k, "/invoke");
  return 0;
}

static int add_header(char **headers, size_t *n, const char *name,
                      const char *value) {
  size_t a = strlen(name), b = strlen(value);
  char *line = (char *)malloc(a + b + 3);
  if (line == NULL) return -1;
  memcpy(line, name, a);
  memcpy(line + a, ": ", 2);
  memcpy(line + a + 2, value, b + 1);
  headers[(*n)++] = line;
  return 0;
}

/* Sign and send text (len bytes) to P; ORC_OK with the request's id in
** *id, else err says why. */
static int send_invoke(orc_engine *E, orci_llm_provider *P, const char *text,
                       size_t len, int64_t timeout_ms, call *c,
                       orc_error *err) {
  orci_sigv4_header hs[3] = {{"Host", P->host},
                             {"Content-Type", "application/json"},
                             {"Accept", "application/json"}};
  orci_sigv4_request sreq;
  orci_sigv4_params sp;
  orci_sigv4_result sr;
  orci_http_req req;
  orci_http *h;
  char *headers[6] = {NULL};
  size_t nh = 0, i;
  int rc;
  if ((h = orci_engine_http(E, err)) == NULL) return err ? err->code : -1;
  memset(&sreq, 0, sizeof sreq);
  memset(&sp, 0, sizeof sp);
  sreq.method = "POST";
  sreq.path = P->path;
  sreq.headers = hs;
  sreq.nheaders = 3;
  sreq.body = text;
  sreq.body_len = len;
  sp.access_key_id = P->access_key_id;
  sp.secret_access_key = P->secret_access_key;
  sp.session_token = P->session_token;
  sp.region = P->region;
  sp.service = "bedrock";
  sp.time = (int64_t)time(NULL); /* AWS checks real time, whatever clock */
  if ((rc = orci_sigv4_sign(&sreq, &sp, &sr, err)) != ORC_OK) return rc;
  if (add_header(headers, &nh, "Host", P->host) ||
      add_header(headers, &nh, "Content-Type", "application/json") ||
      add_header(headers, &nh, "Accept", "application/json") ||
      add_header(headers, &nh, "X-Amz-Date", sr.amz_date) ||
      add_header(headers, &nh, "Authorization", sr.authorization) ||
      (sr.session_token &&
       add_header(headers, &nh, "X-Amz-Security-Token", sr.session_token))) {
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  } else {
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = P->url;
    req.headers = (const char *const *)headers;
    req.nheaders = nh;
    req.body = text;
    req.body_len = len;
    req.timeout_ms = (long)timeout_ms;
    c->id = orci_http_request(h, &req, answered, c, err);
    rc = c->id ? ORC_OK : (err ? err->code : ORC_EHTTP);
  }
  orci_sigv4_result_free(&sr);
  for (i = 0; i < nh; i++)
    free_secret(headers[i]);
  return rc;
}

static int invoke_model(void *ud, orc_task *T) {
  orc_engine *E = (orc_engine *)ud;
  struct orci_bedrock *B = E->bedrock;
  orc_json *p = orc_task_input(T), *model, *body, *v;
  orci_llm_config cfg;
  orci_llm_provider *P = NULL;
  orc_error err;
  const char *model_id, *region;
  const orci_route *route;
  const char *route_region = NULL, *route_endpoint = NULL;
  long route_timeout = 0;
  char *text;
  size_t len;
  call *c;
  int rc;
  if (strcmp(T->resource, "arn:aws:states:::bedrock:invokeModel") != 0) {
    fail(T, "States.Runtime",
         "orchestra runs arn:aws:states:::bedrock:invokeModel only, not %s",
         T->resource);
    return ORC_OK;
  }
  if (orc_json_type_of(p) != ORC_JSON_OBJECT) {
    fail(T, "Bedrock.ValidationException",
         "bedrock:invokeModel needs Parameters with ModelId and Body");
    return ORC_OK;
  }
  model = orc_json_object_find(p, "ModelId", 7);
  if (model == NULL || orc_json_type_of(model) != ORC_JSON_STRING ||
      orc_json_len(model) == 0) {
    fail(T, "Bedrock.ValidationException",
         "bedrock:invokeModel: ModelId must be a model id, inference "
         "profile or ARN (a non-empty string)");
    return ORC_OK;
  }
  model_id = orc_json_string_value(model, NULL);
  if (orc_json_object_find(p, "Input", 5) ||
      orc_json_object_find(p, "Output", 6)) {
    fail(T, "States.Runtime",
         "bedrock:invokeModel: Input and Output (S3Uri) are not supported "
         "by orchestra yet: pass the request as Body");
    return ORC_OK;
  }
  body = orc_json_object_find(p, "Body", 4);
  if (body == NULL) {
    fail(T, "Bedrock.ValidationException",
         "bedrock:invokeModel: Body is required (the model's native request "
         "body)");
    return ORC_OK;
  }
  if (((v = orc_json_object_find(p, "ContentType", 11)) != NULL &&
       (orc_json_type_of(v) != ORC_JSON_STRING ||
        strcmp(orc_json_string_value(v, NULL), "application/json") != 0)) ||
      ((v = orc_json_object_find(p, "Accept", 6)) != NULL &&
       (orc_json_type_of(v) != ORC_JSON_STRING ||
        strcmp(orc_json_string_value(v, NULL), "application/json") != 0))) {
    fail(T, "Bedrock.ValidationException",
         "bedrock:invokeModel: ContentType and Accept must be "
         "application/json");
    return ORC_OK;
  }
  if (T->X && T->X->budget_usd > 0) {
    /* the call's bound: the Body's text / 4 as input tokens, its max
    ** tokens as output (budget.h) */
    char why[600];
    const char *error;
    double max_tokens = body_max_tokens(body);
    if (max_tokens < 0) {
      fail(T, ORC_COST_UNKNOWN_PRICE,
           "budget_usd %.10g is set but the Body names no maximum of output "
           "tokens (max_tokens, inferenceConfig.maxTokens, max_gen_len or "
           "textGenerationConfig.maxTokenCount): the call's cost has no "
           "bound",
           T->X->budget_usd);
      return ORC_OK;
    }
    text = orc_json_print(body, 0, &len);
    if (text == NULL) return ORC_ENOMEM;
    error =
        orci_budget_check_call(T->X, model_id, orc_budget_estimate_tokens(len),
                               max_tokens, why, sizeof why);
    orc_free(text);
    if (error) {
      fail(T, error, "%s", why);
      return ORC_OK;
    }
  }
  route = orci_route_find(B->routes, model_id);
  if (route && !orci_route_bedrock(route, &model_id, &route_region,
                                   &route_endpoint, &route_timeout))
    return orci_route_invoke(E, route, T, model_id, body);
  region = route_region ? route_region
           : B->region  ? B->region
                        : env("AWS_REGION");
  if (region == NULL) region = env("AWS_DEFAULT_REGION");
  if (region == NULL) region = E->region;
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = ORCI_LLM_BEDROCK;
  cfg.model = model_id;
  cfg.region = region;
  cfg.endpoint_url = route_endpoint ? route_endpoint : B->endpoint_url;
  cfg.access_key_id = B->access_key_id;
  cfg.secret_access_key = B->secret_access_key;
  cfg.session_token = B->session_token;
  if (orci_llm_provider_new(&cfg, NULL, NULL, &P, &err) != ORC_OK) {
    fail(T, "States.TaskFailed", "bedrock:invokeModel: %s", err.message);
    return ORC_OK;
  }
  if (invoke_path(P) != 0) {
    orci_llm_provider_free(P);
    fail(T, "States.TaskFailed", "bedrock:invokeModel: bad endpoint path");
    return ORC_OK;
  }
  text = orc_json_print(body, 0, &len);
  c = (call *)calloc(1, sizeof *c);
  if (text == NULL || c == NULL) {
    orc_free(text);
    free(c);
    orci_llm_provider_free(P);
    return ORC_ENOMEM;
  }
  c->E = E;
  c->T = T;
  c->P = P;
  rc = send_invoke(E, P, text, len,
                   route           ? (int64_t)route_timeout
                   : B->timeout_ms ? B->timeout_ms
                                   : DEFAULT_TIMEOUT_MS,
                   c, &err);
  orc_free(text);
  if (rc != ORC_OK) {
    free(c);
    orci_llm_provider_free(P);
    fail(T, "States.TaskFailed", "bedrock:invokeModel: %s", err.message);
    return ORC_OK;
  }
  orc_task_retain(T);
  c->next = B->calls;
  if (B->calls) B->calls->prev = c;
  B->calls = c;
  return ORC_OK;
}

/* }====== */

int orci_bedrock_register(orc_engine *E) {
  E->bedrock = (struct orci_bedrock *)calloc(1, sizeof *E->bedrock);
  if (E->bedrock == NULL) return ORC_ENOMEM;
  if (orci_resource_add(E, "arn:aws:states:::bedrock:", invoke_model, E) !=
      ORC_OK)
    return ORC_ENOMEM;
  return orci_resource_add(E, "arn:aws:states:::aws-sdk:bedrockagentruntime:",
                           orci_invoke_agent_start, E);
}

/* After the HTTP client is freed (no callback can run). */
void orci_bedrock_free(orc_engine *E) {
  if (E->bedrock == NULL) return;
  while (E->bedrock->calls)
    call_free(E->bedrock->calls);
  orci_routes_free(E->bedrock->routes);
  settings_clear(E->bedrock);
  free(E->bedrock);
  E->bedrock = NULL;
}
