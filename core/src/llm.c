/*
** Model providers: configuration, building requests, reading responses,
** errors and the retry policy (llm_int.h). The wire formats themselves are
** in llm_openai.c, llm_anthropic.c and llm_bedrock.c.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "llm_wire_int.h"
#include "sigv4_int.h"

/* {====== helpers */

char *orci_strndup(const char *s, size_t n) {
  char *p;
  if (s == NULL) return NULL;
  p = (char *)malloc(n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *orci_llm_strdup(const char *s) {
  return s ? orci_strndup(s, strlen(s)) : NULL;
}

/* Free a string that may hold a secret, wiping it first. */
static void free_secret(char *s) {
  if (s == NULL) return;
  OPENSSL_cleanse(s, strlen(s));
  free(s);
}

orc_json *orci_llm_jget(const orc_json *o, const char *key, orc_json_type t) {
  orc_json *v;
  if (o == NULL || orc_json_type_of(o) != ORC_JSON_OBJECT) return NULL;
  v = orc_json_object_find(o, key, strlen(key));
  if (v == NULL) return NULL;
  if (orc_json_type_of(v) == t) return v;
  if (t == ORC_JSON_FLOAT && orc_json_type_of(v) == ORC_JSON_INT) return v;
  return NULL;
}

const char *orci_llm_jstr(const orc_json *o, const char *key) {
  const orc_json *v = orci_llm_jget(o, key, ORC_JSON_STRING);
  return v ? orc_json_string_value(v, NULL) : NULL;
}

int64_t orci_llm_jcount(const orc_json *o, const char *key) {
  const orc_json *v = orci_llm_jget(o, key, ORC_JSON_FLOAT);
  double d;
  if (v == NULL) return -1;
  if (orc_json_type_of(v) == ORC_JSON_INT) return orc_json_int_value(v);
  d = orc_json_number(v);
  return d >= 0 && d < 9e18 ? (int64_t)d : -1;
}

void orci_llm_key(orci_buf *b, const char *key) {
  orci_json_write_string(b, key, strlen(key));
  orci_buf_addc(b, ':');
}

void orci_llm_str(orci_buf *b, const char *s) {
  orci_json_write_string(b, s ? s : "", s ? strlen(s) : 0);
}

void orci_llm_result_text(orci_buf *b, const orc_json *v) {
  orci_buf text = {0};
  if (v == NULL) {
    orci_llm_str(b, "");
  } else if (orc_json_type_of(v) == ORC_JSON_STRING) {
    size_t n;
    const char *s = orc_json_string_value(v, &n);
    orci_json_write_string(b, s, n);
  } else {
    orci_json_write(&text, v, 0);
    if (text.failed) b->failed = 1;
    orci_json_write_string(b, text.p ? text.p : "", text.len);
    orci_buf_free(&text);
  }
}

void orci_llm_schema(orci_buf *b, const orc_json *schema) {
  if (schema)
    orci_json_write(b, schema, 0);
  else
    orci_buf_adds(b, "{\"type\":\"object\",\"properties\":{}}");
}

int orci_llm_turn_add_text(orci_llm_turn *t, const char *s, size_t n) {
  size_t old = t->text ? strlen(t->text) : 0;
  char *p;
  if (n == 0) return 0;
  p = (char *)realloc(t->text, old + n + 2);
  if (p == NULL) return -1;
  if (old > 0) p[old++] = '\n';
  memcpy(p + old, s, n);
  p[old + n] = '\0';
  t->text = p;
  return 0;
}

int orci_llm_turn_add_call(orci_llm_turn *t, const char *id, const char *name,
                           orc_json *args, const char *args_text,
                           size_t args_len) {
  orci_llm_tool_call *calls, *c;
  char synth[32];
  calls =
      (orci_llm_tool_call *)realloc(t->calls, (t->ncalls + 1) * sizeof *calls);
  if (calls == NULL) {
    orc_json_unref(args);
    return -1;
  }
  t->calls = calls;
  c = &calls[t->ncalls];
  if (id == NULL || id[0] == '\0') {
    snprintf(synth, sizeof synth, "call_%zu", t->ncalls + 1);
    id = synth;
  }
  c->id = orci_llm_strdup(id);
  c->name = orci_llm_strdup(name ? name : "");
  c->arguments = args;
  c->arguments_text = orci_strndup(args_text ? args_text : "", args_len);
  t->ncalls++;
  return c->id && c->name && c->arguments_text ? 0 : -1;
}

int orci_llm_turn_set_stop(orci_llm_turn *t, const char *raw) {
  static const struct {
    const char *name;
    orci_llm_stop stop;
  } map[] = {{"stop", ORCI_LLM_STOP_END_TURN},
             {"end_turn", ORCI_LLM_STOP_END_TURN},
             {"tool_calls", ORCI_LLM_STOP_TOOL_USE},
             {"function_call", ORCI_LLM_STOP_TOOL_USE},
             {"tool_use", ORCI_LLM_STOP_TOOL_USE},
             {"length", ORCI_LLM_STOP_MAX_TOKENS},
             {"max_tokens", ORCI_LLM_STOP_MAX_TOKENS},
             {"stop_sequence", ORCI_LLM_STOP_STOP_SEQUENCE},
             {"content_filter", ORCI_LLM_STOP_CONTENT_FILTER},
             {"refusal", ORCI_LLM_STOP_CONTENT_FILTER},
             {"guardrail_intervened", ORCI_LLM_STOP_CONTENT_FILTER},
             {"content_filtered", ORCI_LLM_STOP_CONTENT_FILTER}};
  size_t i;
  t->stop = ORCI_LLM_STOP_OTHER;
  if (raw == NULL) {
    /* no reason given (some compatible servers): infer it */
    t->stop = t->ncalls ? ORCI_LLM_STOP_TOOL_USE : ORCI_LLM_STOP_END_TURN;
    return 0;
  }
  for (i = 0; i < sizeof map / sizeof *map; i++)
    if (strcmp(raw, map[i].name) == 0) t->stop = map[i].stop;
  t->stop_raw = orci_llm_strdup(raw);
  return t->stop_raw ? 0 : -1;
}

void orci_llm_turn_free(orci_llm_turn *t) {
  size_t i;
  if (t == NULL) return;
  for (i = 0; i < t->ncalls; i++) {
    free(t->calls[i].id);
    free(t->calls[i].name);
    orc_json_unref(t->calls[i].arguments);
    free(t->calls[i].arguments_text);
  }
  free(t->calls);
  free(t->text);
  free(t->stop_raw);
  free(t->model);
  free(t->id);
  memset(t, 0, sizeof *t);
}

static void error_init(orci_llm_error *e, int status) {
  memset(e, 0, sizeof *e);
  e->name = ORCI_LLM_MODEL_ERROR;
  e->status = status;
  e->retry_after_ms = -1;
}

int orci_llm_malformed(orci_llm_error *e, const char *fmt, ...) {
  va_list ap;
  int status = e->status;
  error_init(e, status);
  snprintf(e->type, sizeof e->type, "MalformedResponse");
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return ORC_EHTTP;
}

/* }====== */

/* {====== providers */

static const char *env(orci_getenv fn, void *ud, const char *name) {
  const char *v = fn ? fn(ud, name) : getenv(name);
  return v && v[0] ? v : NULL;
}

void orci_llm_provider_free(orci_llm_provider *P) {
  if (P == NULL) return;
  free(P->model);
  free(P->url);
  free(P->host);
  free(P->path);
  free_secret(P->api_key);
  free(P->anthropic_version);
  free(P->region);
  free(P->access_key_id);
  free_secret(P->secret_access_key);
  free_secret(P->session_token);
  free(P);
}

/* base (without trailing '/') + suffix, owned. */
static char *join_url(const char *base, const char *suffix) {
  size_t n = strlen(base), m = strlen(suffix);
  char *p;
  while (n > 0 && base[n - 1] == '/')
    n--;
  p = (char *)malloc(n + m + 1);
  if (p == NULL) return NULL;
  memcpy(p, base, n);
  memcpy(p + n, suffix, m + 1);
  return p;
}

static int is_http_url(const char *u) {
  return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* Bedrock: split the endpoint into host and base path, and make the
** request path: the model id is one percent-encoded path segment, as the
** AWS SDKs send it (':' as %3A, '/' in ARNs as %2F). */
static int bedrock_endpoint(orci_llm_provider *P, const char *endpoint,
                            orc_error *err) {
  const char *h = strstr(endpoint, "://") + 3, *slash = strchr(h, '/');
  size_t hn = slash ? (size_t)(slash - h) : strlen(h), i;
  orci_buf path = {0};
  static const char digits[] = "0123456789ABCDEF";
  if (hn == 0)
    return orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: endpoint_url has no host: %s", endpoint);
  P->host = orci_strndup(h, hn);
  if (slash) {
    size_t n = strlen(slash);
    while (n > 0 && slash[n - 1] == '/')
      n--;
    orci_buf_add(&path, slash, n);
  }
  orci_buf_adds(&path, "/model/");
  for (i = 0; P->model[i]; i++) {
    unsigned char c = (unsigned char)P->model[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      orci_buf_addc(&path, (char)c);
    } else {
      char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
      orci_buf_add(&path, esc, 3);
    }
  }
  orci_buf_adds(&path, "/converse");
  orci_buf_addc(&path, '\0');
  if (path.failed || P->host == NULL) {
    orci_buf_free(&path);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  P->path = path.p;
  P->url = (char *)malloc(strlen(endpoint) + strlen(P->path) + 1);
  if (P->url == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  memcpy(P->url, endpoint, (size_t)(h - endpoint) + hn);
  strcpy(P->url + (h - endpoint) + hn, P->path);
  return ORC_OK;
}

int orci_llm_provider_new(const orci_llm_config *cfg, orci_getenv getenv_fn,
                          void *getenv_ud, orci_llm_provider **out,
                          orc_error *err) {
  orci_llm_provider *P;
  const char *name = cfg->kind == ORCI_LLM_OPENAI      ? "openai"
                     : cfg->kind == ORCI_LLM_ANTHROPIC ? "anthropic"
                                                       : "bedrock";
  int rc = ORC_OK;
  *out = NULL;
  if (cfg->model == NULL || cfg->model[0] == '\0')
    return orci_error(err, ORC_EINVAL, NULL, "%s: no model: set %s", name,
                      cfg->kind == ORCI_LLM_BEDROCK ? "model_id" : "model");
  P = (orci_llm_provider *)calloc(1, sizeof *P);
  if (P == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  P->kind = cfg->kind;
  P->model = orci_llm_strdup(cfg->model);
  if (P->model == NULL) goto nomem;

  if (cfg->kind == ORCI_LLM_OPENAI || cfg->kind == ORCI_LLM_ANTHROPIC) {
    int openai = cfg->kind == ORCI_LLM_OPENAI;
    const char *base = cfg->base_url ? cfg->base_url
                       : openai      ? "https://api.openai.com/v1"
                                     : "https://api.anthropic.com";
    const char *key =
        cfg->api_key ? cfg->api_key
                     : env(getenv_fn, getenv_ud,
                           openai ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY");
    if (!is_http_url(base)) {
      rc = orci_error(err, ORC_EINVAL, NULL,
                      "%s: base_url must start with http:// or https://: %s",
                      name, base);
      goto fail;
    }
    if (!openai && key == NULL) {
      rc = orci_error(err, ORC_EINVAL, NULL,
                      "anthropic: no API key: set api_key or "
                      "ANTHROPIC_API_KEY");
      goto fail;
    }
    P->url = join_url(base, openai ? "/chat/completions" : "/v1/messages");
    if (P->url == NULL) goto nomem;
    if (key && (P->api_key = orci_llm_strdup(key)) == NULL) goto nomem;
    if (!openai) {
      P->anthropic_version = orci_llm_strdup(
          cfg->anthropic_version ? cfg->anthropic_version : "2023-06-01");
      if (P->anthropic_version == NULL) goto nomem;
    }
  } else {
    const char *region = cfg->region;
    const char *endpoint = cfg->endpoint_url;
    const char *akid = cfg->access_key_id, *secret = cfg->secret_access_key;
    const char *token = cfg->session_token;
    char dflt[160];
    if (region == NULL) region = env(getenv_fn, getenv_ud, "AWS_REGION");
    if (region == NULL)
      region = env(getenv_fn, getenv_ud, "AWS_DEFAULT_REGION");
    if (region == NULL) {
      rc = orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: no region: set region or AWS_REGION");
      goto fail;
    }
    if (akid == NULL) {
      akid = env(getenv_fn, getenv_ud, "AWS_ACCESS_KEY_ID");
      if (secret == NULL)
        secret = env(getenv_fn, getenv_ud, "AWS_SECRET_ACCESS_KEY");
      if (token == NULL) token = env(getenv_fn, getenv_ud, "AWS_SESSION_TOKEN");
    }
    if (akid == NULL || secret == NULL) {
      rc = orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: no AWS credentials: set access_key_id and "
                      "secret_access_key, or AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY");
      goto fail;
    }
    if (endpoint == NULL)
      endpoint = env(getenv_fn, getenv_ud, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    if (endpoint == NULL)
      endpoint = env(getenv_fn, getenv_ud, "AWS_ENDPOINT_URL");
    if (endpoint == NULL) {
      if ((size_t)snprintf(dflt, sizeof dflt,
                           "https://bedrock-runtime.%s.amazonaws.com",
                           region) >= sizeof dflt) {
        rc = orci_error(err, ORC_EINVAL, NULL, "bedrock: region too long");
        goto fail;
      }
      endpoint = dflt;
    }
    if (!is_http_url(endpoint)) {
      rc = orci_error(err, ORC_EINVAL, NULL,
                      "bedrock: endpoint_url must start with http:// or "
                      "https://: %s",
                      endpoint);
      goto fail;
    }
    P->region = orci_llm_strdup(region);
    P->access_key_id = orci_llm_strdup(akid);
    P->secret_access_key = orci_llm_strdup(secret);
    if (token && (P->session_token = orci_llm_strdup(token)) == NULL)
      goto nomem;
    if (!P->region || !P->access_key_id || !P->secret_access_key) goto nomem;
    if ((rc = bedrock_endpoint(P, endpoint, err)) != ORC_OK) goto fail;
  }
  *out = P;
  return ORC_OK;

nomem:
  rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
fail:
  orci_llm_provider_free(P);
  return rc;
}

const char *orci_llm_provider_name(const orci_llm_provider *P) {
  return P->kind == ORCI_LLM_OPENAI      ? "openai"
         : P->kind == ORCI_LLM_ANTHROPIC ? "anthropic"
                                         : "bedrock";
}

const char *orci_llm_provider_otel_name(const orci_llm_provider *P) {
  return P->kind == ORCI_LLM_OPENAI      ? "openai"
         : P->kind == ORCI_LLM_ANTHROPIC ? "anthropic"
                                         : "aws.bedrock";
}

const char *orci_llm_provider_model(const orci_llm_provider *P) {
  return P->model;
}

/* }====== */

/* {====== requests */

void orci_llm_http_free(orci_llm_http *r) {
  size_t i;
  if (r == NULL) return;
  free(r->url);
  for (i = 0; i < r->nheaders; i++)
    free_secret(r->headers[i]);
  free(r->headers);
  free(r->body);
  memset(r, 0, sizeof *r);
}

void orci_llm_http_as_req(const orci_llm_http *r, long timeout_ms,
                          orci_http_req *out) {
  memset(out, 0, sizeof *out);
  out->method = "POST";
  out->url = r->url;
  out->headers = (const char *const *)r->headers;
  out->nheaders = r->nheaders;
  out->body = r->body;
  out->body_len = r->body_len;
  out->timeout_ms = timeout_ms;
}

static int add_header(orci_llm_http *r, const char *name, const char *value) {
  size_t n = strlen(name), m = strlen(value);
  char *line = (char *)malloc(n + m + 3);
  if (line == NULL) return -1;
  memcpy(line, name, n);
  memcpy(line + n, ": ", 2);
  memcpy(line + n + 2, value, m + 1);
  r->headers[r->nheaders++] = line;
  return 0;
}

/* Checks the shapes our builders rely on, so each builder can trust them. */
static int check_conversation(const orci_llm_conversation *c, orc_error *err) {
  size_t i, k;
  for (i = 0; i < c->ntools; i++)
    if (c->tools[i].name == NULL || c->tools[i].name[0] == '\0')
      return orci_error(err, ORC_EINVAL, NULL, "llm: tool %zu has no name",
                        i + 1);
  for (i = 0; i < c->nmessages; i++) {
    const orci_llm_message *m = &c->messages[i];
    for (k = 0; k < m->nparts; k++) {
      const orci_llm_part *p = &m->parts[k];
      if (p->type == ORCI_LLM_TOOL_USE &&
          (m->role != ORCI_LLM_ASSISTANT || !p->id || !p->id[0] || !p->name ||
           !p->name[0]))
        return orci_error(err, ORC_EINVAL, NULL,
                          "llm: message %zu part %zu: a tool use needs the "
                          "assistant role, an id and a name",
                          i + 1, k + 1);
      if (p->type == ORCI_LLM_TOOL_RESULT &&
          (m->role != ORCI_LLM_USER || !p->id || !p->id[0]))
        return orci_error(err, ORC_EINVAL, NULL,
                          "llm: message %zu part %zu: a tool result needs "
                          "the user role and the id of the call it answers",
                          i + 1, k + 1);
      if (p->type == ORCI_LLM_TEXT && p->text == NULL)
        return orci_error(err, ORC_EINVAL, NULL,
                          "llm: message %zu part %zu: a text part without "
                          "text",
                          i + 1, k + 1);
    }
  }
  if (c->nmessages == 0)
    return orci_error(err, ORC_EINVAL, NULL, "llm: no messages to send");
  return ORC_OK;
}

static int sign_bedrock(const orci_llm_provider *P, orci_llm_http *r,
                        int64_t now_unix, orc_error *err) {
  orci_sigv4_header hs[2] = {{"Host", P->host},
                             {"Content-Type", "application/json"}};
  orci_sigv4_request req;
  orci_sigv4_params sp;
  orci_sigv4_result sr;
  int rc;
  memset(&req, 0, sizeof req);
  memset(&sp, 0, sizeof sp);
  req.method = "POST";
  req.path = P->path;
  req.headers = hs;
  req.nheaders = 2;
  req.body = r->body;
  req.body_len = r->body_len;
  sp.access_key_id = P->access_key_id;
  sp.secret_access_key = P->secret_access_key;
  sp.session_token = P->session_token;
  sp.region = P->region;
  sp.service = "bedrock";
  sp.time = now_unix;
  rc = orci_sigv4_sign(&req, &sp, &sr, err);
  if (rc != ORC_OK) return rc;
  if (add_header(r, "Host", P->host) ||
      add_header(r, "X-Amz-Date", sr.amz_date) ||
      add_header(r, "Authorization", sr.authorization) ||
      (sr.session_token &&
       add_header(r, "X-Amz-Security-Token", sr.session_token)))
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  orci_sigv4_result_free(&sr);
  return rc;
}

int orci_llm_build(const orci_llm_provider *P, const orci_llm_conversation *c,
                   int64_t now_unix, orci_llm_http *out, orc_error *err) {
  orci_buf body = {0};
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = check_conversation(c, err)) != ORC_OK) return rc;
  rc = P->kind == ORCI_LLM_OPENAI ? orci_llm_openai_body(P, c, &body, err)
       : P->kind == ORCI_LLM_ANTHROPIC
           ? orci_llm_anthropic_body(P, c, &body, err)
           : orci_llm_bedrock_body(P, c, &body, err);
  if (rc == ORC_OK && body.failed)
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  if (rc != ORC_OK) {
    orci_buf_free(&body);
    return rc;
  }
  orci_buf_addc(&body, '\0');
  out->body = body.p;
  out->body_len = body.len - 1;
  out->url = orci_llm_strdup(P->url);
  out->headers = (char **)calloc(8, sizeof *out->headers);
  if (body.failed || out->url == NULL || out->headers == NULL ||
      add_header(out, "Content-Type", "application/json") ||
      add_header(out, "Accept", "application/json")) {
    rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  } else if (P->kind == ORCI_LLM_OPENAI) {
    if (P->api_key) {
      char *v = (char *)malloc(strlen(P->api_key) + 8);
      if (v == NULL) {
        rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
      } else {
        strcpy(v, "Bearer ");
        strcat(v, P->api_key);
        if (add_header(out, "Authorization", v))
          rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
        free_secret(v);
      }
    }
  } else if (P->kind == ORCI_LLM_ANTHROPIC) {
    if (add_header(out, "x-api-key", P->api_key) ||
        add_header(out, "anthropic-version", P->anthropic_version))
      rc = orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  } else {
    rc = sign_bedrock(P, out, now_unix, err);
  }
  if (rc != ORC_OK) orci_llm_http_free(out);
  return rc;
}

/* }====== */

/* {====== responses */

/* Replace each occurrence of secret in msg (NUL-terminated, in place). */
static void scrub_one(char *msg, size_t size, const char *secret) {
  static const char mark[] = "[redacted]";
  size_t n;
  char *p;
  if (secret == NULL || (n = strlen(secret)) < 4) return;
  while ((p = strstr(msg, secret)) != NULL) {
    size_t tail = strlen(p + n);
    if ((size_t)(p - msg) + sizeof mark + tail > size)
      tail = size - (size_t)(p - msg) - sizeof mark;
    memmove(p + sizeof mark - 1, p + n, tail);
    memcpy(p, mark, sizeof mark - 1);
    p[sizeof mark - 1 + tail] = '\0';
  }
}

static void scrub(const orci_llm_provider *P, orci_llm_error *e) {
  scrub_one(e->message, sizeof e->message, P->api_key);
  scrub_one(e->message, sizeof e->message, P->secret_access_key);
  scrub_one(e->message, sizeof e->message, P->session_token);
}

static int status_retryable(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 ||
         status == 503 || status == 504 || status == 529;
}

/* Copy at most 200 bytes of a non-JSON error body, on one line. */
static void body_excerpt(const char *s, size_t n, char *buf, size_t size) {
  size_t i, k = 0;
  if (n > 200) n = 200;
  for (i = 0; i < n && k + 1 < size; i++)
    buf[k++] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
  buf[k] = '\0';
}

static int transport_error(const orci_llm_provider *P,
                           const orci_http_response *res, orci_llm_error *e) {
  static const char *const types[] = {"",
                                      "ConnectionRefused",
                                      "ConnectionDropped",
                                      "Timeout",
                                      "TruncatedResponse",
                                      "ResponseTooLarge",
                                      "HostNotFound",
                                      "TLSError",
                                      "TransportError"};
  error_init(e, res->status); /* a cut body may follow a status line */
  snprintf(e->type, sizeof e->type, "%s",
           res->error <= ORCI_HTTP_OTHER ? types[res->error]
                                         : "TransportError");
  snprintf(e->message, sizeof e->message, "%s: %s", orci_llm_provider_name(P),
           res->message);
  e->retryable =
      res->error == ORCI_HTTP_REFUSED || res->error == ORCI_HTTP_DROPPED ||
      res->error == ORCI_HTTP_TIMEOUT || res->error == ORCI_HTTP_TRUNCATED;
  scrub(P, e);
  return ORC_EHTTP;
}

int orci_llm_parse(const orci_llm_provider *P, const orci_http_response *res,
                   double now_unix, orci_llm_turn *turn, orci_llm_error *e) {
  orc_json *body = NULL;
  orc_error jerr;
  int rc;
  const char *name = orci_llm_provider_name(P);
  memset(turn, 0, sizeof *turn);
  error_init(e, res->status);
  if (res->error != ORCI_HTTP_OK) return transport_error(P, res, e);
  rc = orc_json_parse(res->body, res->body_len, NULL, &body, &jerr);

  if (res->status < 200 || res->status >= 300) {
    const char *msg = NULL, *h;
    char excerpt[256];
    size_t hn;
    if (rc == ORC_OK) {
      if (P->kind == ORCI_LLM_OPENAI)
        orci_llm_openai_error(body, e, &msg);
      else if (P->kind == ORCI_LLM_ANTHROPIC)
        orci_llm_anthropic_error(body, e, &msg);
      else
        orci_llm_bedrock_error(res, body, e, &msg);
    } else if (P->kind == ORCI_LLM_BEDROCK) {
      orci_llm_bedrock_error(res, NULL, e, &msg);
    }
    if (msg == NULL) {
      body_excerpt(res->body, res->body_len, excerpt, sizeof excerpt);
      msg = excerpt[0] ? excerpt : "(no message)";
    }
    if (e->type[0] == '\0')
      snprintf(e->type, sizeof e->type, "HTTP%d", res->status);
    snprintf(e->message, sizeof e->message, "%s %d %s: %s", name, res->status,
             e->type, msg);
    e->retryable = status_retryable(res->status);
    /* OpenAI: a 429 for an exhausted quota is billing, not load */
    if (strcmp(e->type, "insufficient_quota") == 0) e->retryable = 0;
    if ((h = orci_http_header(res, "x-should-retry", &hn)) != NULL) {
      if (hn == 4 && memcmp(h, "true", 4) == 0) e->retryable = 1;
      if (hn == 5 && memcmp(h, "false", 5) == 0) e->retryable = 0;
    }
    if ((h = orci_http_header(res, "retry-after-ms", &hn)) != NULL) {
      char num[32];
      char *end;
      double ms;
      snprintf(num, sizeof num, "%.*s", (int)(hn < 31 ? hn : 31), h);
      ms = strtod(num, &end);
      if (end != num && *end == '\0' && ms >= 0 && isfinite(ms))
        e->retry_after_ms = ms;
    }
    if (e->retry_after_ms < 0 &&
        (h = orci_http_header(res, "retry-after", &hn)) != NULL)
      e->retry_after_ms = orci_llm_parse_retry_after(h, hn, now_unix);
    scrub(P, e);
    orc_json_unref(body);
    return ORC_EHTTP;
  }

  if (rc != ORC_OK) {
    orci_llm_malformed(e, "%s %d: the response is not JSON: %s", name,
                       res->status, jerr.message);
    e->status = res->status;
    scrub(P, e);
    return ORC_EHTTP;
  }
  rc = P->kind == ORCI_LLM_OPENAI      ? orci_llm_openai_turn(body, turn, e)
       : P->kind == ORCI_LLM_ANTHROPIC ? orci_llm_anthropic_turn(body, turn, e)
                                       : orci_llm_bedrock_turn(body, turn, e);
  orc_json_unref(body);
  if (rc != ORC_OK) {
    char msg[sizeof e->message];
    orci_llm_turn_free(turn);
    if (e->type[0] == '\0')
      snprintf(e->type, sizeof e->type, "MalformedResponse");
    /* a long message is cut, as every message here is */
    if (snprintf(msg, sizeof msg, "%s %d: %s", name, res->status, e->message) <
        0)
      msg[0] = '\0';
    memcpy(e->message, msg, sizeof msg);
    e->status = res->status;
    scrub(P, e);
    return ORC_EHTTP;
  }
  return ORC_OK;
}

/* }====== */

/* {====== retries */

static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int month_of(const char *s) {
  static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int i;
  for (i = 0; i < 12; i++)
    if (strncmp(s, names + 3 * i, 3) == 0) return i + 1;
  return 0;
}

double orci_llm_parse_retry_after(const char *value, size_t len,
                                  double now_unix) {
  char s[64], mon[4] = {0}, wday[16], tz[4] = {0};
  int d, y, hh, mm, ss, m, n = 0;
  size_t i;
  char *end;
  double secs, when;
  while (len > 0 && (*value == ' ' || *value == '\t'))
    value++, len--;
  while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
    len--;
  if (len == 0 || len >= sizeof s) return -1;
  memcpy(s, value, len);
  s[len] = '\0';
  /* delay-seconds: digits (a fraction tolerated) */
  for (i = 0; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
    ;
  if (i == len) {
    secs = strtod(s, &end);
    if (*end != '\0' || !isfinite(secs)) return -1;
    return secs * 1000.0;
  }
  /* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" */
  if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d %3s%n", wday, &d, mon, &y, &hh,
             &mm, &ss, tz, &n) == 8 &&
      (size_t)n == len && y >= 100) {
    /* fall through to the common check */
  } else if (sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d %3s%n", wday, &d, mon,
                    &y, &hh, &mm, &ss, tz, &n) == 8 &&
             (size_t)n == len) {
    /* RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT": two-digit years are this
    ** century's unless that is more than 50 years ahead */
    if (y < 100) y += y >= 70 ? 1900 : 2000;
  } else if (sscanf(s, "%15s %3s %d %d:%d:%d %d%n", wday, mon, &d, &hh, &mm,
                    &ss, &y, &n) == 7 &&
             (size_t)n == len) {
    memcpy(tz, "GMT", 4); /* asctime "Sun Nov  6 08:49:37 1994" */
  } else {
    return -1;
  }
  m = month_of(mon);
  if (m == 0 || strcmp(tz, "GMT") != 0 || d < 1 || d > 31 || hh > 23 ||
      mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
    return -1;
  when = (double)days_from_civil(y, m, d) * 86400.0 + hh * 3600 + mm * 60 + ss;
  return when <= now_unix ? 0 : (when - now_unix) * 1000.0;
}

double orci_llm_retry_delay(const orci_llm_error *e, int attempt,
                            const orci_llm_retry *policy, double random01) {
  orci_llm_retry p = {3, 1000, 60000, 0.25};
  double delay;
  if (policy) {
    if (policy->max_attempts > 0) p.max_attempts = policy->max_attempts;
    if (policy->base_ms > 0) p.base_ms = policy->base_ms;
    if (policy->max_ms > 0) p.max_ms = policy->max_ms;
    if (policy->jitter >= 0 && policy->jitter <= 1) p.jitter = policy->jitter;
  }
  if (!e->retryable || attempt >= p.max_attempts) return -1;
  if (e->retry_after_ms >= 0)
    return e->retry_after_ms < p.max_ms ? e->retry_after_ms : p.max_ms;
  delay = p.base_ms * pow(2.0, attempt > 1 ? attempt - 1 : 0);
  if (delay > p.max_ms) delay = p.max_ms;
  if (random01 < 0) random01 = 0;
  if (random01 >= 1) random01 = 0.999999;
  return delay * (1.0 - p.jitter * random01);
}

/* }====== */
