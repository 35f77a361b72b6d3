/*
** Each provider's request through http.c to the test model server
** (spec/support/model_server.mjs, started here on 127.0.0.1) and back
** through its parser: a round trip with several tool calls and their
** results, then every fault the server injects (429 with Retry-After, 500,
** 503, 529, slow first byte, malformed JSON, truncated body, dropped
** connection), a refused connection, a wrong SigV4 signature (the server
** recomputes it with @smithy/signature-v4), keep-alive reuse, concurrent
** transfers, a step's work budget, cancellation and a wakeup from another
** thread.
**
** Needs node and spec/support/node_modules (`make test` runs npm ci).
*/
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llm_int.h"

#include "check.h"

#ifndef ORC_SOURCE_DIR
#define ORC_SOURCE_DIR "."
#endif

static char server[64]; /* "http://127.0.0.1:PORT" */
static pid_t server_pid;
static int server_stdin = -1;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Start the server; its stdin is our pipe, so it exits when we do. */
static int start_server(void) {
  int in[2], out[2];
  char line[256];
  FILE *f;
  if (pipe(in) != 0 || pipe(out) != 0) return -1;
  server_pid = fork();
  if (server_pid < 0) return -1;
  if (server_pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    /* node must not inherit a sanitizer runtime preloaded for us */
    unsetenv("LD_PRELOAD");
    execlp("node", "node", ORC_SOURCE_DIR "/spec/support/model_server.mjs",
           "--stdin-eof-exits", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  server_stdin = in[1];
  f = fdopen(out[0], "r");
  if (f == NULL || fgets(line, sizeof line, f) == NULL ||
      sscanf(line, "listening %63s", server) != 1) {
    fprintf(stderr,
            "test_model_server: the model server did not start (node and "
            "spec/support/node_modules are needed: run `make test`, which "
            "runs npm ci)\n");
    if (f) fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

static void stop_server(void) {
  int status;
  if (server_stdin >= 0) close(server_stdin);
  if (server_pid > 0) {
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &status, 0);
  }
}

/* {====== driving the client */

typedef struct result {
  int done;
  orci_http_error error;
  int status;
  char *headers, *body; /* copies */
  size_t body_len;
  char message[512];
  double elapsed_ms;
  orci_http_response view; /* res with the copies, for orci_llm_parse */
} result;

static void on_done(void *ud, const orci_http_response *res) {
  result *r = (result *)ud;
  r->done++;
  r->error = res->error;
  r->status = res->status;
  r->headers = (char *)malloc(res->headers_len + 1);
  r->body = (char *)malloc(res->body_len + 1);
  if (r->headers) memcpy(r->headers, res->headers, res->headers_len + 1);
  if (r->body) memcpy(r->body, res->body, res->body_len + 1);
  r->body_len = res->body_len;
  snprintf(r->message, sizeof r->message, "%s", res->message);
  r->elapsed_ms = res->elapsed_ms;
  r->view = *res;
  r->view.headers = r->headers;
  r->view.body = r->body;
  r->view.message = r->message;
}

static void result_free(result *r) {
  free(r->headers);
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* Perform and poll until every flag is set or 10 s pass. Returns the
** number of perform calls (a busy loop would make thousands). */
static int run(orci_http *h, result **rs, int n) {
  double until = now_ms() + 10000;
  int nperform = 0, i, all;
  orc_error err;
  for (;;) {
    long ms;
    CHECK(orci_http_perform(h, &err) >= 0);
    nperform++;
    for (all = 1, i = 0; i < n; i++)
      all &= rs[i]->done > 0;
    if (all || now_ms() > until) break;
    ms = orci_http_timeout_ms(h);
    CHECK(orci_http_poll(h, ms < 0 || ms > 100 ? 100 : ms, &err) == ORC_OK);
  }
  CHECK(all);
  return nperform;
}

static void run1(orci_http *h, result *r) {
  run(h, &r, 1);
}

/* A plain JSON request to the server's control API; returns the body (owned)
** or NULL. */
static char *control(orci_http *h, const char *method, const char *path,
                     const char *json) {
  char url[128];
  const char *hdr[] = {"Content-Type: application/json"};
  orci_http_req req;
  result r;
  char *body;
  memset(&req, 0, sizeof req);
  memset(&r, 0, sizeof r);
  snprintf(url, sizeof url, "%s%s", server, path);
  req.method = method;
  req.url = url;
  req.headers = hdr;
  req.nheaders = 1;
  req.body = json;
  req.body_len = json ? strlen(json) : 0;
  req.timeout_ms = 5000;
  CHECK(orci_http_request(h, &req, on_done, &r, NULL) > 0);
  run1(h, &r);
  CHECK(r.error == ORCI_HTTP_OK && r.status == 200);
  body = r.body;
  r.body = NULL;
  result_free(&r);
  return body;
}

/* The requests the server received, parsed (owned). */
static orc_json *received(orci_http *h) {
  char *text = control(h, "GET", "/_control/requests", NULL);
  orc_json *v = NULL;
  if (text) orc_json_parse(text, strlen(text), NULL, &v, NULL);
  free(text);
  return v;
}

/* }====== */

/* {====== providers */

static orc_json *parse(const char *text) {
  orc_json *v = NULL;
  orc_json_parse(text, strlen(text), NULL, &v, NULL);
  return v;
}

static orci_llm_provider *provider(orci_llm_kind kind, const char *secret) {
  orci_llm_config cfg;
  orci_llm_provider *P = NULL;
  orc_error err;
  char base[96];
  memset(&cfg, 0, sizeof cfg);
  cfg.kind = kind;
  snprintf(base, sizeof base, "%s%s", server,
           kind == ORCI_LLM_OPENAI ? "/v1" : "");
  if (kind == ORCI_LLM_OPENAI) {
    cfg.model = "gpt-test";
    cfg.base_url = base;
    cfg.api_key = "sk-openai-test-key";
  } else if (kind == ORCI_LLM_ANTHROPIC) {
    cfg.model = "claude-test";
    cfg.base_url = base;
    cfg.api_key = "sk-ant-test-key";
  } else {
    cfg.model = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
    cfg.endpoint_url = base;
    cfg.region = "us-west-2";
    cfg.access_key_id = "AKIDTEST";
    cfg.secret_access_key = secret ? secret : "aws-secret-test-key";
    cfg.session_token = "aws-session-token-test";
  }
  CHECK(orci_llm_provider_new(&cfg, NULL, NULL, &P, &err) == ORC_OK);
  return P;
}

static const char *server_config =
    "{\"api_key\":\"sk-openai-test-key\",\"anthropic_key\":\"sk-ant-test-key\","
    "\"aws\":{\"access_key_id\":\"AKIDTEST\",\"secret_access_key\":\"aws-"
    "secret-test-key\",\"session_token\":\"aws-session-token-test\","
    "\"region\":\"us-west-2\"}}";

/* Send conversation c with P, wait, parse. Returns orci_llm_parse's status;
** *t and *e as it left them. */
static int call(orci_http *h, const orci_llm_provider *P,
                const orci_llm_conversation *c, long timeout_ms,
                orci_llm_turn *t, orci_llm_error *e) {
  orci_llm_http lr;
  orci_http_req req;
  result r;
  orc_error err;
  int rc;
  memset(&r, 0, sizeof r);
  CHECK(orci_llm_build(P, c, (int64_t)time(NULL), &lr, &err) == ORC_OK);
  orci_llm_http_as_req(&lr, timeout_ms, &req);
  CHECK(orci_http_request(h, &req, on_done, &r, &err) > 0);
  orci_llm_http_free(&lr);
  run1(h, &r);
  rc = orci_llm_parse(P, &r.view, (double)time(NULL), t, e);
  result_free(&r);
  return rc;
}

/* The first turn, the model's reply, and the second turn with results. */
static void round_trip(orci_http *h, orci_llm_kind kind) {
  orci_llm_provider *P = provider(kind, NULL);
  orc_json *schema =
      parse("{\"type\":\"object\",\"properties\":{\"order_id\":"
            "{\"type\":\"integer\"}},\"required\":[\"order_id\"]}");
  orc_json *res1 = parse("{\"status\":\"shipped\"}");
  orc_json *res2 = orc_json_string("sunny", 5);
  orci_llm_tool tools[2] = {{"lookup_order", "Fetch an order", NULL},
                            {"weather", NULL, NULL}};
  orci_llm_part q = {ORCI_LLM_TEXT, "Where is order 42, and the weather?",
                     NULL,          NULL,
                     NULL,          NULL,
                     NULL,          0};
  orci_llm_part asst[3], answers[2];
  orci_llm_message msgs[3];
  orci_llm_conversation c;
  orci_llm_turn t, t2;
  orci_llm_error e;
  orc_json *log;
  size_t i;
  char *ok;
  tools[0].schema = schema;
  memset(&c, 0, sizeof c);
  c.system = "You are an order assistant.";
  c.messages = msgs;
  c.nmessages = 1;
  c.tools = tools;
  c.ntools = 2;
  c.max_tokens = 256;
  c.temperature = -1;
  msgs[0].role = ORCI_LLM_USER;
  msgs[0].parts = &q;
  msgs[0].nparts = 1;

  ok = control(h, "POST", "/_control/reset", server_config);
  free(ok);
  ok = control(h, "POST", "/_control/enqueue",
               "[{\"turn\":{\"text\":\"Checking.\",\"tool_calls\":["
               "{\"id\":\"c1\",\"name\":\"lookup_order\",\"arguments\":{"
               "\"order_id\":42}},{\"id\":\"c2\",\"name\":\"weather\","
               "\"arguments\":{\"city\":\"Paris\"}}],\"usage\":{\"input\":"
               "100,\"output\":20,\"cache_read\":40,\"cache_write\":8}}},"
               "{\"turn\":{\"text\":\"Shipped; sunny.\",\"stop\":"
               "\"end_turn\"}}]");
  free(ok);

  CHECK(call(h, P, &c, 5000, &t, &e) == ORC_OK);
  CHECK(t.ncalls == 2 && t.stop == ORCI_LLM_STOP_TOOL_USE);
  CHECK(t.text && strcmp(t.text, "Checking.") == 0);
  CHECK(t.usage.input_tokens == 100 && t.usage.output_tokens == 20);
  CHECK(t.usage.cache_read_tokens == 40);
  /* OpenAI has no cache writes */
  CHECK(t.usage.cache_write_tokens == (kind == ORCI_LLM_OPENAI ? 0 : 8));
  if (t.ncalls != 2) goto out;
  CHECK(strcmp(t.calls[0].id, "c1") == 0 &&
        strcmp(t.calls[1].name, "weather") == 0);

  /* replay the assistant turn and answer both calls */
  memset(asst, 0, sizeof asst);
  memset(answers, 0, sizeof answers);
  asst[0].type = ORCI_LLM_TEXT;
  asst[0].text = t.text;
  for (i = 0; i < 2; i++) {
    asst[1 + i].type = ORCI_LLM_TOOL_USE;
    asst[1 + i].id = t.calls[i].id;
    asst[1 + i].name = t.calls[i].name;
    asst[1 + i].input = t.calls[i].arguments;
    asst[1 + i].input_text = t.calls[i].arguments_text;
    answers[i].type = ORCI_LLM_TOOL_RESULT;
    answers[i].id = t.calls[i].id;
    answers[i].result = i == 0 ? res1 : res2;
  }
  msgs[1].role = ORCI_LLM_ASSISTANT;
  msgs[1].parts = asst;
  msgs[1].nparts = 3;
  msgs[2].role = ORCI_LLM_USER;
  msgs[2].parts = answers;
  msgs[2].nparts = 2;
  c.nmessages = 3;
  CHECK(call(h, P, &c, 5000, &t2, &e) == ORC_OK);
  CHECK(t2.text && strcmp(t2.text, "Shipped; sunny.") == 0);
  CHECK(t2.ncalls == 0 && t2.stop == ORCI_LLM_STOP_END_TURN);
  orci_llm_turn_free(&t2);

  /* the server found both requests well formed (and signed) */
  log = received(h);
  CHECK(log && orc_json_len(log) == 2 + 0);
  for (i = 0; log && i < orc_json_len(log); i++) {
    const orc_json *entry = orc_json_array_get(log, i);
    const orc_json *problem = orc_json_object_find(entry, "problem", 7);
    const orc_json *sig = orc_json_object_find(entry, "signature", 9);
    CHECK(problem && orc_json_type_of(problem) == ORC_JSON_NULL);
    if (problem && orc_json_type_of(problem) != ORC_JSON_NULL)
      fprintf(stderr, "server: %s\n", orc_json_string_value(problem, NULL));
    if (kind == ORCI_LLM_BEDROCK)
      CHECK(sig && orc_json_type_of(sig) == ORC_JSON_STRING &&
            strcmp(orc_json_string_value(sig, NULL), "ok") == 0);
  }
  /* keep-alive: the second request came over the first one's connection */
  if (log && orc_json_len(log) == 2) {
    const orc_json *p1 =
        orc_json_object_find(orc_json_array_get(log, 0), "remote_port", 11);
    const orc_json *p2 =
        orc_json_object_find(orc_json_array_get(log, 1), "remote_port", 11);
    CHECK(p1 && p2 && orc_json_equal(p1, p2));
  }
  orc_json_unref(log);
out:
  orci_llm_turn_free(&t);
  orc_json_unref(schema);
  orc_json_unref(res1);
  orc_json_unref(res2);
  orci_llm_provider_free(P);
}

/* One question; the script's next step is a fault. */
static void fault(orci_http *h, orci_llm_kind kind, const char *step,
                  long timeout_ms, const char *type, int status, int retryable,
                  double retry_after_ms) {
  orci_llm_provider *P = provider(kind, NULL);
  orci_llm_part q = {ORCI_LLM_TEXT, "hi", NULL, NULL, NULL, NULL, NULL, 0};
  orci_llm_message m = {ORCI_LLM_USER, &q, 1};
  orci_llm_conversation c;
  orci_llm_turn t;
  orci_llm_error e;
  char *ok;
  int rc;
  memset(&c, 0, sizeof c);
  c.messages = &m;
  c.nmessages = 1;
  c.temperature = -1;
  ok = control(h, "POST", "/_control/enqueue", step);
  free(ok);
  rc = call(h, P, &c, timeout_ms, &t, &e);
  CHECK(rc == ORC_EHTTP);
  if (rc == ORC_EHTTP) {
    CHECK(strcmp(e.name, "Agent.ModelError") == 0);
    CHECK(strcmp(e.type, type) == 0);
    CHECK(e.status == status);
    CHECK(e.retryable == retryable);
    CHECK(e.retry_after_ms == retry_after_ms);
    CHECK(strstr(e.message, "test-key") == NULL);
    CHECK(strstr(e.message, "session-token") == NULL);
    if (strcmp(e.type, type) != 0 || e.status != status ||
        e.retryable != retryable || e.retry_after_ms != retry_after_ms)
      fprintf(stderr, "  %s via %s: got %s %d retryable %d after %g: %s\n",
              step, orci_llm_provider_name(P), e.type, e.status, e.retryable,
              e.retry_after_ms, e.message);
  } else {
    orci_llm_turn_free(&t);
  }
  orci_llm_provider_free(P);
}

static void faults(orci_http *h, orci_llm_kind kind) {
  int openai = kind == ORCI_LLM_OPENAI, anth = kind == ORCI_LLM_ANTHROPIC;
  char *ok = control(h, "POST", "/_control/reset", server_config);
  free(ok);
  fault(h, kind,
        "{\"fault\":\"status\",\"status\":429,\"headers\":{\"Retry-After\":"
        "\"2\"}}",
        5000,
        openai ? "rate_limit_exceeded"
        : anth ? "rate_limit_error"
               : "ThrottlingException",
        429, 1, 2000);
  fault(h, kind, "{\"fault\":\"status\",\"status\":500}", 5000,
        openai ? "server_error"
        : anth ? "api_error"
               : "InternalServerException",
        500, 1, -1);
  fault(h, kind,
        "{\"fault\":\"status\",\"status\":503,\"headers\":{\"Retry-After\":"
        "\"Thu, 01 Jan 2015 00:00:00 GMT\"}}",
        5000,
        openai ? "server_error"
        : anth ? "api_error"
               : "ServiceUnavailableException",
        503, 1, 0);
  fault(h, kind, "{\"fault\":\"status\",\"status\":529}", 5000,
        openai ? "server_error"
        : anth ? "overloaded_error"
               : "ServiceUnavailableException",
        529, 1, -1);
  fault(h, kind, "{\"fault\":\"status\",\"status\":400,\"message\":\"nope\"}",
        5000,
        openai ? "invalid_request_error"
        : anth ? "invalid_request_error"
               : "ValidationException",
        400, 0, -1);
  fault(h, kind, "{\"turn\":{\"text\":\"late\"},\"delay_ms\":1500}", 300,
        "Timeout", 0, 1, -1);
  fault(h, kind, "{\"fault\":\"malformed\"}", 5000, "MalformedResponse", 200, 0,
        -1);
  fault(h, kind, "{\"fault\":\"truncated\"}", 5000, "TruncatedResponse", 200, 1,
        -1);
  /* libcurl sends a request again, once, when a kept-alive connection
  ** closes before any answer (it cannot tell a stale connection from a
  ** crash): two drops make the outcome the same either way */
  fault(h, kind, "[{\"fault\":\"drop\"},{\"fault\":\"drop\"}]", 5000,
        "ConnectionDropped", 0, 1, -1);
  ok = control(h, "POST", "/_control/reset", server_config);
  free(ok);
}

/* A slow first byte inside the timeout is just slow. */
static void slow_but_in_time(orci_http *h) {
  orci_llm_provider *P = provider(ORCI_LLM_ANTHROPIC, NULL);
  orci_llm_part q = {ORCI_LLM_TEXT, "hi", NULL, NULL, NULL, NULL, NULL, 0};
  orci_llm_message m = {ORCI_LLM_USER, &q, 1};
  orci_llm_conversation c;
  orci_llm_turn t;
  orci_llm_error e;
  char *ok;
  double t0;
  memset(&c, 0, sizeof c);
  c.messages = &m;
  c.nmessages = 1;
  c.temperature = -1;
  ok = control(h, "POST", "/_control/enqueue",
               "{\"turn\":{\"text\":\"slow\"},\"delay_ms\":300}");
  free(ok);
  t0 = now_ms();
  CHECK(call(h, P, &c, 5000, &t, &e) == ORC_OK);
  CHECK(now_ms() - t0 >= 290);
  CHECK(t.text && strcmp(t.text, "slow") == 0);
  orci_llm_turn_free(&t);
  orci_llm_provider_free(P);
}

/* A signature made with the wrong secret: 403 from the independent check. */
static void bad_signature(orci_http *h) {
  orci_llm_provider *P = provider(ORCI_LLM_BEDROCK, "not-the-secret");
  orci_llm_part q = {ORCI_LLM_TEXT, "hi", NULL, NULL, NULL, NULL, NULL, 0};
  orci_llm_message m = {ORCI_LLM_USER, &q, 1};
  orci_llm_conversation c;
  orci_llm_turn t;
  orci_llm_error e;
  orc_json *log;
  char *ok = control(h, "POST", "/_control/reset", server_config);
  free(ok);
  memset(&c, 0, sizeof c);
  c.messages = &m;
  c.nmessages = 1;
  c.temperature = -1;
  CHECK(call(h, P, &c, 5000, &t, &e) == ORC_EHTTP);
  CHECK(e.status == 403 && strcmp(e.type, "InvalidSignatureException") == 0);
  CHECK(strstr(e.message, "The request signature we calculated does not "
                          "match") != NULL);
  CHECK(!e.retryable);
  log = received(h);
  CHECK(log && orc_json_len(log) == 1);
  if (log && orc_json_len(log) == 1) {
    const orc_json *sig =
        orc_json_object_find(orc_json_array_get(log, 0), "signature", 9);
    CHECK(sig && strcmp(orc_json_string_value(sig, NULL), "bad") == 0);
  }
  orc_json_unref(log);
  orci_llm_provider_free(P);
}

/* }====== */

/* {====== the client itself */

static void refused(orci_http *h) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  char url[64];
  orci_http_req req;
  result r;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* a port that was free a moment ago: nothing listens there */
  CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0);
  close(s);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions",
           ntohs(a.sin_port));
  memset(&req, 0, sizeof req);
  memset(&r, 0, sizeof r);
  req.url = url;
  req.timeout_ms = 5000;
  CHECK(orci_http_request(h, &req, on_done, &r, NULL) > 0);
  run1(h, &r);
  CHECK(r.error == ORCI_HTTP_REFUSED && r.status == 0);
  CHECK(strncmp(r.message, "connection refused: ", 20) == 0);
  result_free(&r);
}

/* Three slow answers at once finish together, and the loop sleeps in
** poll meanwhile instead of spinning. */
static void concurrent(orci_http *h) {
  char url[128];
  const char *hdr[] = {"Content-Type: application/json"};
  const char *body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                     "\"content\":\"x\"}]}";
  orci_http_req req;
  result r[3], *rs[3] = {&r[0], &r[1], &r[2]};
  double t0;
  int i, nperform;
  char *ok = control(h, "POST", "/_control/reset", "{}");
  free(ok);
  ok = control(h, "POST", "/_control/enqueue",
               "[{\"turn\":{\"text\":\"a\"},\"delay_ms\":400},{\"turn\":{"
               "\"text\":\"b\"},\"delay_ms\":400},{\"turn\":{\"text\":\"c\"},"
               "\"delay_ms\":400}]");
  free(ok);
  snprintf(url, sizeof url, "%s/v1/chat/completions", server);
  memset(&req, 0, sizeof req);
  memset(r, 0, sizeof r);
  req.url = url;
  req.headers = hdr;
  req.nheaders = 1;
  req.body = body;
  req.body_len = strlen(body);
  req.timeout_ms = 5000;
  t0 = now_ms();
  for (i = 0; i < 3; i++)
    CHECK(orci_http_request(h, &req, on_done, &r[i], NULL) > 0);
  CHECK(orci_http_ntransfers(h) == 3);
  nperform = run(h, rs, 3);
  CHECK(now_ms() - t0 < 1100); /* together, not one after another */
  CHECK(nperform < 200);       /* poll slept: no busy loop */
  for (i = 0; i < 3; i++) {
    CHECK(r[i].error == ORCI_HTTP_OK && r[i].status == 200);
    result_free(&r[i]);
  }
  CHECK(orci_http_ntransfers(h) == 0);
  CHECK(orci_http_timeout_ms(h) == -1);
}

/* orci_http_step keeps to its budget: with a budget of one unit a step
** hands one request to libcurl, acts on one ready socket and delivers one
** response at most, says it left work (has_backlog, timeout 0), and all
** the requests still finish, each with its own answer. */
static void bounded(orci_http *h) {
  enum { N = 8 };
  char url[128];
  const char *hdr[] = {"Content-Type: application/json"};
  const char *body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                     "\"content\":\"x\"}]}";
  orci_http_req req;
  result r[N];
  int i, ndone, used, total = 0, nsteps = 0, backlog_seen = 0;
  double until = now_ms() + 10000;
  char *ok = control(h, "POST", "/_control/reset", "{}");
  free(ok);
  for (i = 0; i < N; i++) {
    ok = control(h, "POST", "/_control/enqueue", "{\"turn\":{\"text\":\"b\"}}");
    free(ok);
  }
  snprintf(url, sizeof url, "%s/v1/chat/completions", server);
  memset(&req, 0, sizeof req);
  memset(r, 0, sizeof r);
  req.url = url;
  req.headers = hdr;
  req.nheaders = 1;
  req.body = body;
  req.body_len = strlen(body);
  req.timeout_ms = 5000;
  for (i = 0; i < N; i++)
    CHECK(orci_http_request(h, &req, on_done, &r[i], NULL) > 0);
  CHECK(orci_http_has_backlog(h)); /* queued, not yet handed to libcurl */
  CHECK(orci_http_timeout_ms(h) == 0);
  while (total < N && now_ms() < until) {
    used = orci_http_step(h, 1, &ndone, NULL);
    CHECK(used >= 0);
    /* one item of each kind at most: a socket, a start, the timer, a done */
    CHECK(used <=
          ORCI_HTTP_W_SOCKET * 2 + ORCI_HTTP_W_START + ORCI_HTTP_W_DONE);
    CHECK(ndone <= 1);
    total += ndone;
    nsteps++;
    if (orci_http_has_backlog(h)) {
      backlog_seen++;
      CHECK(orci_http_timeout_ms(h) == 0);
    } else if (total < N) {
      long ms = orci_http_timeout_ms(h);
      orci_http_poll(h, ms < 0 || ms > 100 ? 100 : ms, NULL);
    }
  }
  CHECK(total == N);
  CHECK(backlog_seen >= N - 1); /* the queue drained one per step */
  CHECK(nsteps >= N);
  for (i = 0; i < N; i++) {
    CHECK(r[i].done == 1 && r[i].error == ORCI_HTTP_OK && r[i].status == 200);
    CHECK(r[i].body && strstr(r[i].body, "\"b\"") != NULL);
    result_free(&r[i]);
  }
  CHECK(orci_http_ntransfers(h) == 0);
  CHECK(!orci_http_has_backlog(h));
}

static void cancel(orci_http *h) {
  char url[128];
  const char *hdr[] = {"Content-Type: application/json"};
  const char *body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                     "\"content\":\"x\"}]}";
  orci_http_req req;
  result r;
  uint64_t id;
  double until;
  char *ok = control(h, "POST", "/_control/enqueue",
                     "{\"turn\":{\"text\":\"never read\"},\"delay_ms\":300}");
  free(ok);
  snprintf(url, sizeof url, "%s/v1/chat/completions", server);
  memset(&req, 0, sizeof req);
  memset(&r, 0, sizeof r);
  req.url = url;
  req.headers = hdr;
  req.nheaders = 1;
  req.body = body;
  req.body_len = strlen(body);
  id = orci_http_request(h, &req, on_done, &r, NULL);
  CHECK(id > 0);
  CHECK(orci_http_perform(h, NULL) == 0);
  CHECK(orci_http_cancel(h, id) == ORC_OK);
  CHECK(orci_http_cancel(h, id) == ORC_EINVAL);
  CHECK(orci_http_ntransfers(h) == 0);
  until = now_ms() + 600;
  while (now_ms() < until) {
    orci_http_perform(h, NULL);
    orci_http_poll(h, 50, NULL);
  }
  CHECK(r.done == 0);
}

static void *wake_later(void *ud) {
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  orci_http_wakeup((orci_http *)ud);
  return NULL;
}

static void wakeup(orci_http *h) {
  pthread_t th;
  double t0 = now_ms();
  CHECK(pthread_create(&th, NULL, wake_later, h) == 0);
  CHECK(orci_http_poll(h, 5000, NULL) == ORC_OK);
  CHECK(now_ms() - t0 < 2000);
  CHECK(pthread_join(th, NULL) == 0);
}

static void misuse(orci_http *h) {
  orci_http_req req;
  orc_error err;
  memset(&req, 0, sizeof req);
  CHECK(orci_http_request(h, &req, on_done, NULL, &err) == 0);
  CHECK(strcmp(err.message, "http: the request has no URL") == 0);
  CHECK(orci_http_cancel(h, 12345) == ORC_EINVAL);
}

/* }====== */

int main(void) {
  orci_http *h;
  orc_error err;
  orci_llm_kind kinds[3] = {ORCI_LLM_OPENAI, ORCI_LLM_ANTHROPIC,
                            ORCI_LLM_BEDROCK};
  int i;
  if (start_server() != 0) {
    stop_server();
    return 1;
  }
  h = orci_http_new(NULL, NULL, &err);
  CHECK(h != NULL);
  if (h) {
    for (i = 0; i < 3; i++) {
      round_trip(h, kinds[i]);
      faults(h, kinds[i]);
    }
    slow_but_in_time(h);
    bad_signature(h);
    refused(h);
    concurrent(h);
    bounded(h);
    cancel(h);
    wakeup(h);
    misuse(h);
    orci_http_free(h);
  }
  orci_http_free(NULL);
  stop_server();
  printf("test_model_server: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
