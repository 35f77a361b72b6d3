/*
** The agent loop: compiled agents, invocations as executions, model calls
** and tool calls as tasks, limits, return of control, sessions, and the
** built-in resources that call the providers over the engine's HTTP
** client.
**
** An invocation is a runnable (its execution's root frame link) that moves
** through phases: call the model, read its turn, run the turn's tool calls
** (concurrently, each a task), send their results back, and so on. Task
** answers only record what came and put the invocation back on the run
** queue: the loop itself runs in orc_engine_step, one phase per turn.
**
** Per-step cost stays flat as the conversation grows: messages are
** immutable JSON values appended to a vector (a session shares them by
** reference), a scripted model's task input is {"step": n} unless it asks
** for the conversation, and the transcript is made once, at the end.
*/
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"
#include "execution_int.h"
#include "orchestra/budget.h"
#include "orchestra/cost.h"
#include "json_int.h"
#include "llm_int.h"
#include "schema_int.h"

/* {====== event types */

enum {
  AE_STARTED,
  AE_MODEL_SCHEDULED,
  AE_MODEL_STARTED,
  AE_MODEL_SUCCEEDED,
  AE_MODEL_FAILED,
  AE_TOOL_SCHEDULED,
  AE_TOOL_STARTED,
  AE_TOOL_SUCCEEDED,
  AE_TOOL_FAILED,
  AE_SUCCEEDED,
  AE_FAILED,
  AE_COUNT
};

static const orci_event_type agent_types[AE_COUNT] = {
    {"AgentInvocationStarted", "agentInvocationStartedEventDetails", NULL, 0},
    {"ModelCallScheduled", "modelCallScheduledEventDetails", NULL, 0},
    {"ModelCallStarted", "modelCallStartedEventDetails", NULL, 0},
    {"ModelCallSucceeded", "modelCallSucceededEventDetails", NULL, 0},
    {"ModelCallFailed", "modelCallFailedEventDetails", NULL, 0},
    {"ToolCallScheduled", "toolCallScheduledEventDetails", NULL, 0},
    {"ToolCallStarted", "toolCallStartedEventDetails", NULL, 0},
    {"ToolCallSucceeded", "toolCallSucceededEventDetails", NULL, 0},
    {"ToolCallFailed", "toolCallFailedEventDetails", NULL, 0},
    {"AgentInvocationSucceeded", "agentInvocationSucceededEventDetails", NULL,
     0},
    {"AgentInvocationFailed", "agentInvocationFailedEventDetails", NULL, 0},
};

/* }====== */

/* {====== types */

typedef struct agent_tool {
  char *name, *description, *resource;
  orc_json *schema; /* NULL: any object */
  int kind;
  orc_machine *machine;
  orc_agent *agent;
} agent_tool;

typedef struct session {
  char *id;
  orci_vec msgs; /* orc_json *: references */
  orc_json *attrs;
} session;

/* The engine's agents, their event types and the HTTP client. */
typedef struct orci_agents {
  orci_vec list; /* orc_agent * */
  int ev[AE_COUNT];
} orci_agents;

struct orc_agent {
  orc_engine *E;
  orc_machine M; /* a record executions point at: name, ARN */
  char *name, *instructions;
  int model_kind;
  char *model_resource; /* the tasks of model calls */
  int with_messages;
  orci_llm_provider *provider;
  long timeout_ms;
  char *otel_provider, *model_name;
  agent_tool *tools;
  size_t ntools;
  orci_llm_tool *llm_tools; /* views of tools for the providers */
  orc_json *tools_json;     /* [{name, description, schema}] */
  int max_steps;
  int64_t max_tokens;
  double temperature;
  orc_json *output_schema;
  double timeout_s;
  int max_repeated;
  orci_llm_retry retry;
  orci_table sessions;
  double budget_usd;  /* each invocation's budget (0: the engine's) */
  size_t fixed_bytes; /* instructions and tools: sent with every request */
};

#define P_MODEL      0 /* call the model */
#define P_MODEL_WAIT 1
#define P_MODEL_DONE 2 /* its answer came: read it */
#define P_TOOLS_WAIT 3
#define P_TOOLS_DONE 4 /* every tool call of the turn ended */
#define P_END        5

typedef struct invocation invocation;

typedef struct tool_call {
  invocation *inv;
  char *id, *name;
  orc_json *args; /* NULL: the model's arguments were not an object */
  char *args_text;
  const agent_tool *tool; /* NULL: unknown */
  orc_task *task;         /* while pending */
  orc_json *result;
  int is_error, done;
  int64_t started_ms, last_event;
  char *child_arn; /* a machine's or agent's execution */
} tool_call;

typedef struct llm_call { /* a provider request and its retries */
  invocation *inv;
  orc_task *T;
  int attempt;
  uint64_t http_id;
  orci_timer t_retry;
} llm_call;

struct invocation {
  orc_agent *A;
  orc_execution *X;
  session *S;    /* or NULL */
  orci_vec msgs; /* orc_json *: the conversation (references) */
  orc_json *attrs;
  int phase;
  int steps;
  orci_llm_usage usage;
  orc_task *model_task;
  int model_ok;
  orc_json *model_out;
  char *model_error, *model_cause;
  int64_t model_ms;
  tool_call *calls;
  size_t ncalls, npending;
  char *last_sig;
  int repeats;
  int repaired;
  char *last_text;
  orci_timer t_timeout;
  llm_call *llm;
  int64_t last_event;
  /* budgets: the estimate of a request's input tokens */
  size_t nsized;          /* messages whose text size is in msg_bytes */
  size_t msg_bytes;       /* text size of the conversation's messages */
  size_t bytes_at_call;   /* msg_bytes when the last model call was made */
  size_t bytes_reported;  /* msg_bytes of the last call with usage */
  int64_t input_reported; /* that call's input tokens (cache included) */
};

/* }====== */

static orci_http *engine_http(orc_engine *E, orc_error *err);

/* {====== small helpers */

static orci_agents *agents_of(orc_engine *E, int create) {
  orci_agents *R = (orci_agents *)E->agents;
  int i;
  if (R || !create) return R;
  R = (orci_agents *)calloc(1, sizeof *R);
  if (R == NULL) return NULL;
  for (i = 0; i < AE_COUNT; i++)
    if ((R->ev[i] = orci_history_add_type(E, &agent_types[i])) < 0) {
      free(R);
      return NULL;
    }
  E->agents = R;
  return R;
}

static int ev_of(orc_engine *E, int k) {
  return ((orci_agents *)E->agents)->ev[k];
}

static char *dupstr(const char *s) {
  return s ? strdup(s) : NULL;
}

static orc_json *jstr(const char *s) {
  return s ? orc_json_string(s, strlen(s)) : orc_json_null();
}

/* An object of n (key, value taken) pairs; NULL values are skipped. */
static orc_json *obj(int n, ...) {
  va_list ap;
  const char *keys[24];
  orc_json *vals[24];
  int i, k = 0;
  orc_json *o;
  va_start(ap, n);
  for (i = 0; i < n && i < 24; i++) {
    const char *key = va_arg(ap, const char *);
    orc_json *v = va_arg(ap, orc_json *);
    if (v) {
      keys[k] = key;
      vals[k++] = v;
    }
  }
  va_end(ap);
  o = orc_json_object_new((size_t)k);
  if (o == NULL) {
    for (i = 0; i < k; i++)
      orc_json_unref(vals[i]);
    return NULL;
  }
  for (i = 0; i < k; i++)
    orc_json_object_set(o, (size_t)i, orci_skey(keys[i]), vals[i]);
  return o;
}

static const char *field_str(const orc_json *o, const char *k) {
  orc_json *v = orc_json_object_find(o, k, strlen(k));
  return v && orc_json_type_of(v) == ORC_JSON_STRING
             ? orc_json_string_value(v, NULL)
             : NULL;
}

static int64_t field_int(const orc_json *o, const char *k) {
  orc_json *v = orc_json_object_find(o, k, strlen(k));
  int t = v ? orc_json_type_of(v) : ORC_JSON_NULL;
  if (t == ORC_JSON_INT) return orc_json_int_value(v);
  if (t == ORC_JSON_FLOAT) return (int64_t)orc_json_number(v);
  return 0;
}

static char *compact(const orc_json *v) {
  char *t = v ? orc_json_print(v, 0, NULL) : NULL;
  char *r = t ? strdup(t) : NULL;
  orc_free(t);
  return r;
}

static orc_json *usage_json(const orci_llm_usage *u) {
  return obj(4, "input_tokens", orc_json_int(u->input_tokens), "output_tokens",
             orc_json_int(u->output_tokens), "cache_read_tokens",
             orc_json_int(u->cache_read_tokens), "cache_write_tokens",
             orc_json_int(u->cache_write_tokens));
}

static orc_json *vec_array(const orci_vec *V) {
  orc_json *a = orc_json_array_new(V->n);
  size_t i;
  if (a == NULL) return NULL;
  for (i = 0; i < V->n; i++)
    orc_json_array_set(a, i, orc_json_ref(ORCI_VEC_AT(V, orc_json *, i)));
  return a;
}

static void vec_unref(orc_engine *E, orci_vec *V) {
  size_t i;
  for (i = 0; i < V->n; i++)
    orc_json_unref(ORCI_VEC_AT(V, orc_json *, i));
  orci_vec_free(&E->mem, V);
}

/* Append message m (taken) to the conversation. */
static void add_message(invocation *inv, orc_json *m) {
  if (m == NULL ||
      orci_vec_push(&inv->X->E->mem, &inv->msgs, sizeof m, &m) != ORC_OK) {
    orc_json_unref(m);
    inv->X->E->mem.failed = 1;
  }
}

static orc_json *text_message(const char *role, const char *text) {
  orc_json *c = orc_json_array_new(1);
  if (c)
    orc_json_array_set(c, 0, obj(2, "type", jstr("text"), "text", jstr(text)));
  return obj(2, "role", jstr(role), "content", c);
}

/* }====== */

/* {====== sessions */

static int session_eq(const void *item, const void *key) {
  return strcmp(((const session *)item)->id, (const char *)key) == 0;
}

static session *session_find(orc_agent *A, const char *id) {
  return (session *)orci_table_find(&A->sessions, orci_hash_str(id), id,
                                    session_eq);
}

static void session_free(orc_engine *E, session *S) {
  vec_unref(E, &S->msgs);
  orc_json_unref(S->attrs);
  free(S->id);
  free(S);
}

static session *session_get(orc_agent *A, const char *id) {
  session *S = session_find(A, id);
  if (S) return S;
  S = (session *)calloc(1, sizeof *S);
  if (S == NULL || (S->id = strdup(id)) == NULL ||
      (S->attrs = orc_json_object_new(0)) == NULL ||
      orci_table_put(&A->E->mem, &A->sessions, orci_hash_str(id), S) !=
          ORC_OK) {
    if (S) {
      orc_json_unref(S->attrs);
      free(S->id);
      free(S);
    }
    return NULL;
  }
  return S;
}

orc_json *orc_agent_session(orc_agent *A, const char *id) {
  session *S = session_find(A, id);
  if (S == NULL) return NULL;
  return obj(2, "messages", vec_array(&S->msgs), "attributes",
             orc_json_ref(S->attrs));
}

void orc_agent_clear_session(orc_agent *A, const char *id) {
  session *S = session_find(A, id);
  if (S == NULL) return;
  orci_table_del(&A->E->mem, &A->sessions, orci_hash_str(id), S);
  session_free(A->E, S);
}

/* }====== */

/* {====== ending */

static void inv_enqueue(invocation *inv) {
  orci_run_push(&inv->X->E->sched, &inv->X->root.run);
}

/* The cause of a failed invocation: JSON text. */
static char *fail_cause(invocation *inv, const char *message) {
  orc_json *c =
      obj(5, "message", jstr(message), "partial", jstr(inv->last_text), "steps",
          orc_json_int(inv->steps), "usage", usage_json(&inv->usage),
          "transcript", vec_array(&inv->msgs));
  char *text = compact(c);
  orc_json_unref(c);
  return text;
}

static void fail(invocation *inv, const char *error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(invocation *inv, const char *error, const char *fmt, ...) {
  char msg[1024];
  char *cause;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cause = fail_cause(inv, msg);
  inv->phase = P_END;
  orci_finish(inv->X, ORC_STATUS_FAILED, NULL, error, cause ? cause : msg,
              inv->last_event);
  free(cause);
}

int orci_agent_end_type(orc_execution *X, int status) {
  orc_engine *E = X->E;
  if (status == ORC_STATUS_SUCCEEDED) return ev_of(E, AE_SUCCEEDED);
  if (status == ORC_STATUS_FAILED) return ev_of(E, AE_FAILED);
  return status == ORC_STATUS_TIMED_OUT ? EV_EXECUTION_TIMED_OUT
                                        : EV_EXECUTION_ABORTED;
}

static void llm_cancel(invocation *inv);

void orci_agent_ended(orc_execution *X) {
  invocation *inv = (invocation *)X->agent;
  orc_engine *E = X->E;
  size_t i;
  inv->phase = P_END;
  orci_timer_cancel(&E->sched, &inv->t_timeout);
  llm_cancel(inv);
  if (inv->model_task) {
    orc_task *T = inv->model_task;
    inv->model_task = NULL;
    orci_drop_task(E, T);
  }
  for (i = 0; i < inv->ncalls; i++)
    if (inv->calls[i].task) {
      orc_task *T = inv->calls[i].task;
      inv->calls[i].task = NULL;
      orci_drop_task(E, T);
    }
}

static void calls_free(invocation *inv) {
  size_t i;
  for (i = 0; i < inv->ncalls; i++) {
    tool_call *c = &inv->calls[i];
    free(c->id);
    free(c->name);
    free(c->args_text);
    free(c->child_arn);
    orc_json_unref(c->args);
    orc_json_unref(c->result);
  }
  free(inv->calls);
  inv->calls = NULL;
  inv->ncalls = inv->npending = 0;
}

void orci_agent_free(orc_execution *X) {
  invocation *inv = (invocation *)X->agent;
  if (inv == NULL) return;
  orci_agent_ended(X); /* nothing left out: a no-op once it ended */
  calls_free(inv);
  vec_unref(inv->X->E, &inv->msgs);
  orc_json_unref(inv->attrs);
  orc_json_unref(inv->model_out);
  free(inv->model_error);
  free(inv->model_cause);
  free(inv->last_sig);
  free(inv->last_text);
  free(inv);
  X->agent = NULL;
}

static void timeout_fired(orc_engine *E, void *data) {
  invocation *inv = (invocation *)data;
  (void)E;
  if (inv->X->status != ORC_STATUS_RUNNING) return;
  fail(inv, ORC_AGENT_TIMEOUT,
       "the invocation ran longer than timeout_seconds (%g s)",
       inv->A->timeout_s);
}

/* }====== */

/* {====== the context a model or tool handler sees */

static orc_json *base_context(invocation *inv, const orc_task *T) {
  orc_execution *X = inv->X;
  return obj(4, "Task", obj(1, "Token", jstr(T->token)), "Execution",
             obj(2, "Id", jstr(X->arn), "Name", jstr(X->name)), "Agent",
             obj(1, "Name", jstr(inv->A->name)), "session",
             orc_json_ref(inv->attrs));
}

static orc_json *model_context(void *data, const orc_task *T) {
  return base_context((invocation *)data, T);
}

static orc_json *tool_context(void *data, const orc_task *T) {
  tool_call *c = (tool_call *)data;
  orc_json *b = base_context(c->inv, T), *o;
  size_t i, n;
  if (b == NULL) return NULL;
  n = orc_json_len(b);
  o = orc_json_object_new(n + 1);
  if (o == NULL) {
    orc_json_unref(b);
    return NULL;
  }
  for (i = 0; i < n; i++)
    orc_json_object_set(o, i, orc_json_ref(orc_json_object_key(b, i)),
                        orc_json_ref(orc_json_object_value(b, i)));
  orc_json_object_set(o, n, orci_skey("Tool"),
                      obj(2, "Name", jstr(c->name), "CallId", jstr(c->id)));
  orc_json_unref(b);
  return o;
}

static void model_done(void *data, orc_task *T, int ok, orc_json *output,
                       const char *error, const char *cause);
static void tool_done(void *data, orc_task *T, int ok, orc_json *output,
                      const char *error, const char *cause);

static const orci_task_owner model_owner = {model_done, model_context};
static const orci_task_owner tool_owner = {tool_done, tool_context};

int orc_agent_task_set_attributes(orc_task *T, orc_json *attrs,
                                  orc_error *err) {
  invocation *inv;
  if (T->done != ORCI_TASK_PENDING)
    return orci_error(err, ORC_EINVAL, NULL, "the task is no longer pending");
  if (T->owner == &model_owner)
    inv = (invocation *)T->owner_data;
  else if (T->owner == &tool_owner)
    inv = ((tool_call *)T->owner_data)->inv;
  else
    return orci_error(err, ORC_EINVAL, NULL, "the task is not an agent's");
  if (orc_json_type_of(attrs) != ORC_JSON_OBJECT)
    return orci_error(err, ORC_EINVAL, NULL,
                      "session attributes must be an object, not %s",
                      orc_json_type_name(orc_json_type_of(attrs)));
  orc_json_unref(inv->attrs);
  inv->attrs = orc_json_ref(attrs);
  if (inv->S) { /* writes persist, whatever the invocation's end */
    orc_json_unref(inv->S->attrs);
    inv->S->attrs = orc_json_ref(attrs);
  }
  return ORC_OK;
}

/* }====== */

/* {====== model calls */

static void model_call(invocation *inv);
static void model_read(invocation *inv);
static void tools_finish(invocation *inv);

static void inv_run(orci_runnable *r) {
  orc_execution *X = ORCI_FRAME_OF(r)->X;
  invocation *inv = (invocation *)X->agent;
  if (X->status != ORC_STATUS_RUNNING || inv == NULL) return;
  switch (inv->phase) {
  case P_MODEL:
    model_call(inv);
    break;
  case P_MODEL_DONE:
    /* reading a turn (messages, events, maybe the final output) weighs
    ** like a handler call in the step's work bound */
    X->E->dispatched++;
    model_read(inv);
    break;
  case P_TOOLS_DONE:
    tools_finish(inv);
    break;
  default:
    break;
  }
}

static void model_done(void *data, orc_task *T, int ok, orc_json *output,
                       const char *error, const char *cause) {
  invocation *inv = (invocation *)data;
  (void)T;
  inv->model_task = NULL;
  if (ok < 0 || inv->phase != P_MODEL_WAIT) {
    orc_json_unref(output);
    return;
  }
  inv->model_ok = ok;
  inv->model_out = output;
  inv->model_error = dupstr(error);
  inv->model_cause = dupstr(cause);
  inv->phase = P_MODEL_DONE;
  inv_enqueue(inv);
}

/* The conversation as model tasks with with_messages see it. */
static orc_json *model_input(invocation *inv) {
  orc_agent *A = inv->A;
  if (!A->with_messages || A->model_kind != ORC_MODEL_SCRIPTED)
    return obj(1, "step", orc_json_int(inv->steps));
  return obj(4, "step", orc_json_int(inv->steps), "messages",
             vec_array(&inv->msgs), "tools", orc_json_ref(A->tools_json),
             "instructions", A->instructions ? jstr(A->instructions) : NULL);
}

/* Output tokens a call may produce: what is left of max_tokens, else
** under a budget ORC_BUDGET_DEFAULT_MAX_TOKENS (sent to the provider too,
** so the budget's bound holds), else 0 (no limit sent). */
static int64_t call_max_tokens(const invocation *inv) {
  const orc_agent *A = inv->A;
  if (A->max_tokens > 0) {
    int64_t left = A->max_tokens - inv->usage.output_tokens;
    return left > 0 ? left : 1;
  }
  return inv->X->budget_usd > 0 ? ORC_BUDGET_DEFAULT_MAX_TOKENS : 0;
}

/* The next request's input tokens, estimated (budget.h): the text of the
** instructions, tools and messages / 4; once a call reported its input,
** that count plus the text added since / 4. */
static double estimate_input(invocation *inv) {
  for (; inv->nsized < inv->msgs.n; inv->nsized++)
    inv->msg_bytes +=
        orci_json_size(ORCI_VEC_AT(&inv->msgs, orc_json *, inv->nsized)) + 1;
  if (inv->input_reported > 0)
    return (double)inv->input_reported +
           orc_budget_estimate_tokens(inv->msg_bytes - inv->bytes_reported);
  return orc_budget_estimate_tokens(inv->A->fixed_bytes + inv->msg_bytes);
}

/* Whether the next model call fits the invocation's budget; when it does
** not, the invocation fails (Cost.BudgetExceeded or Cost.UnknownPrice). */
static int budget_allows(invocation *inv) {
  char why[600];
  double input = estimate_input(inv);
  const char *error =
      orci_budget_check_call(inv->X, inv->A->model_name, input,
                             (double)call_max_tokens(inv), why, sizeof why);
  inv->bytes_at_call = inv->msg_bytes;
  if (error == NULL) return 1;
  fail(inv, error, "%s", why);
  return 0;
}

static void model_call(invocation *inv) {
  orc_agent *A = inv->A;
  orc_execution *X = inv->X;
  orc_engine *E = X->E;
  orc_task *T = NULL;
  if (inv->steps >= A->max_steps) {
    fail(inv, ORC_AGENT_MAX_STEPS,
         "the agent called the model %d times (max_steps) without a final "
         "answer",
         inv->steps);
    return;
  }
  if (A->max_tokens > 0 && inv->usage.output_tokens >= A->max_tokens) {
    fail(inv, ORC_AGENT_MAX_TOKENS,
         "the invocation used %lld output tokens of its max_tokens %lld",
         (long long)inv->usage.output_tokens, (long long)A->max_tokens);
    return;
  }
  if (X->budget_usd > 0 && !budget_allows(inv)) return;
  inv->steps++;
  inv->last_event = orci_add_event(
      X, inv->last_event, ev_of(E, AE_MODEL_SCHEDULED),
      obj(4, "gen_ai.operation.name", jstr("chat"), "gen_ai.provider.name",
          jstr(A->otel_provider), "gen_ai.request.model", jstr(A->model_name),
          "step", orc_json_int(inv->steps)));
  inv->last_event =
      orci_add_event(X, inv->last_event, ev_of(E, AE_MODEL_STARTED),
                     obj(1, "attempt", orc_json_int(1)));
  inv->phase = P_MODEL_WAIT;
  inv->model_ms = orc_engine_now(E);
  if (orci_task_launch(X, A->model_resource, "model", model_input(inv),
                       &model_owner, inv, &T) != ORC_OK) {
    fail(inv, ORC_AGENT_MODEL_ERROR, "out of memory");
    return;
  }
  if (T && inv->phase == P_MODEL_WAIT)
    inv->model_task = T;
  else if (T) /* the call ended the invocation (a handler stopped it) */
    orci_drop_task(E, T);
}

/* One model turn in the internal shape, read from its JSON. */
typedef struct turn {
  const char *text;
  const orc_json *calls; /* array or NULL */
  const char *stop;
  orci_llm_usage usage;
} turn;

static int read_turn(const orc_json *v, turn *t, char *why, size_t n) {
  orc_json *u, *c;
  memset(t, 0, sizeof *t);
  if (orc_json_type_of(v) != ORC_JSON_OBJECT) {
    snprintf(why, n, "the model's turn is %s, not an object",
             orc_json_type_name(orc_json_type_of(v)));
    return -1;
  }
  c = orc_json_object_find(v, "text", 4);
  if (c && orc_json_type_of(c) != ORC_JSON_STRING &&
      orc_json_type_of(c) != ORC_JSON_NULL) {
    snprintf(why, n, "the model's turn has a text that is not a string");
    return -1;
  }
  t->text = field_str(v, "text");
  c = orc_json_object_find(v, "tool_calls", 10);
  if (c && orc_json_type_of(c) == ORC_JSON_ARRAY) {
    size_t i;
    for (i = 0; i < orc_json_len(c); i++) {
      orc_json *call = orc_json_array_get(c, i);
      if (orc_json_type_of(call) != ORC_JSON_OBJECT ||
          field_str(call, "name") == NULL) {
        snprintf(why, n, "tool call %zu of the model's turn has no name",
                 i + 1);
        return -1;
      }
    }
    if (orc_json_len(c) > 0) t->calls = c;
  } else if (c && orc_json_type_of(c) != ORC_JSON_NULL) {
    snprintf(why, n, "the model's turn has tool_calls that are not a list");
    return -1;
  }
  t->stop = field_str(v, "stop_reason");
  if (t->stop == NULL) t->stop = t->calls ? "tool_use" : "end_turn";
  u = orc_json_object_find(v, "usage", 5);
  if (u && orc_json_type_of(u) == ORC_JSON_OBJECT) {
    t->usage.input_tokens = field_int(u, "input_tokens");
    t->usage.output_tokens = field_int(u, "output_tokens");
    t->usage.cache_read_tokens = field_int(u, "cache_read_tokens");
    t->usage.cache_write_tokens = field_int(u, "cache_write_tokens");
  }
  return 0;
}

static void start_tools(invocation *inv, const orc_json *calls);
static void final_answer(invocation *inv, const char *text);

static void model_read(invocation *inv) {
  orc_agent *A = inv->A;
  orc_execution *X = inv->X;
  orc_engine *E = X->E;
  orc_json *out = inv->model_out, *content, *fin;
  double latency = (double)(orc_engine_now(E) - inv->model_ms);
  turn t;
  char why[300];
  size_t i, nc, k = 0;
  inv->model_out = NULL;
  if (!inv->model_ok || read_turn(out, &t, why, sizeof why) != 0) {
    char msg[1024];
    const char *error = inv->model_error;
    if (inv->model_ok)
      snprintf(msg, sizeof msg, "%s", why);
    else if (error && strncmp(error, "Agent.", 6) && inv->model_cause)
      snprintf(msg, sizeof msg, "%s: %s", error, inv->model_cause);
    else
      snprintf(msg, sizeof msg, "%s",
               inv->model_cause ? inv->model_cause
               : error          ? error
                                : "the model call failed");
    if (inv->model_ok || error == NULL || strncmp(error, "Agent.", 6))
      error = ORC_AGENT_MODEL_ERROR;
    inv->last_event =
        orci_add_event(X, inv->last_event, ev_of(E, AE_MODEL_FAILED),
                       obj(4, "gen_ai.provider.name", jstr(A->otel_provider),
                           "error", jstr(error), "cause", jstr(msg),
                           "latencyMs", orc_json_float(latency)));
    orc_json_unref(out);
    {
      char *err = strdup(error);
      fail(inv, err ? err : ORC_AGENT_MODEL_ERROR, "%s", msg);
      free(err);
    }
    return;
  }
  free(inv->model_error);
  free(inv->model_cause);
  inv->model_error = inv->model_cause = NULL;
  inv->usage.input_tokens += t.usage.input_tokens;
  inv->usage.output_tokens += t.usage.output_tokens;
  inv->usage.cache_read_tokens += t.usage.cache_read_tokens;
  inv->usage.cache_write_tokens += t.usage.cache_write_tokens;
  if (t.usage.input_tokens + t.usage.cache_read_tokens +
          t.usage.cache_write_tokens >
      0) {
    inv->input_reported = t.usage.input_tokens + t.usage.cache_read_tokens +
                          t.usage.cache_write_tokens;
    inv->bytes_reported = inv->bytes_at_call;
  }
  fin = orc_json_array_new(1);
  if (fin) orc_json_array_set(fin, 0, jstr(t.stop));
  inv->last_event = orci_add_event(
      X, inv->last_event, ev_of(E, AE_MODEL_SUCCEEDED),
      obj(11, "gen_ai.operation.name", jstr("chat"), "gen_ai.provider.name",
          jstr(A->otel_provider), "gen_ai.request.model", jstr(A->model_name),
          "gen_ai.response.finish_reasons", fin, "gen_ai.usage.input_tokens",
          orc_json_int(t.usage.input_tokens), "gen_ai.usage.output_tokens",
          orc_json_int(t.usage.output_tokens),
          "gen_ai.usage.cache_read.input_tokens",
          orc_json_int(t.usage.cache_read_tokens),
          "gen_ai.usage.cache_creation.input_tokens",
          orc_json_int(t.usage.cache_write_tokens),
          t.calls ? "rationale" : "text", t.text ? jstr(t.text) : NULL,
          "toolCalls",
          orc_json_int(t.calls ? (int64_t)orc_json_len(t.calls) : 0),
          "latencyMs", orc_json_float(latency)));
  /* the assistant's message, as the transcript keeps it */
  nc = t.calls ? orc_json_len(t.calls) : 0;
  content = orc_json_array_new(nc + (t.text ? 1 : 0));
  if (content) {
    if (t.text)
      orc_json_array_set(content, k++,
                         obj(2, "type", jstr("text"), "text", jstr(t.text)));
    for (i = 0; i < nc; i++) {
      orc_json *c = orc_json_array_get(t.calls, i);
      orc_json *args = orc_json_object_find(c, "arguments", 9);
      char gen[32];
      const char *id = field_str(c, "id");
      if (id == NULL) {
        snprintf(gen, sizeof gen, "call_%d_%zu", inv->steps, i + 1);
        id = gen;
      }
      orc_json_array_set(
          content, k++,
          obj(4, "type", jstr("tool_use"), "id", jstr(id), "name",
              jstr(field_str(c, "name")), "input",
              args ? orc_json_ref(args) : orc_json_object_new(0)));
    }
  }
  add_message(inv, obj(2, "role", jstr("assistant"), "content", content));
  if (t.text) {
    free(inv->last_text);
    inv->last_text = strdup(t.text);
  }
  if (!strcmp(t.stop, "max_tokens")) {
    orc_json_unref(out);
    fail(inv, ORC_AGENT_MAX_TOKENS,
         "the model's answer was cut at max_tokens after %lld output tokens",
         (long long)inv->usage.output_tokens);
    return;
  }
  if (A->max_tokens > 0 && inv->usage.output_tokens > A->max_tokens) {
    orc_json_unref(out);
    fail(inv, ORC_AGENT_MAX_TOKENS,
         "the invocation used %lld output tokens, over its max_tokens %lld",
         (long long)inv->usage.output_tokens, (long long)A->max_tokens);
    return;
  }
  if (nc > 0) {
    /* the message holds the calls with their final ids */
    orc_json *msg = ORCI_VEC_AT(&inv->msgs, orc_json *, inv->msgs.n - 1);
    start_tools(inv, orc_json_object_find(msg, "content", 7));
  } else {
    final_answer(inv, t.text ? t.text : "");
  }
  orc_json_unref(out);
}

/* }====== */

/* {====== tool calls */

static const agent_tool *tool_find(const orc_agent *A, const char *name) {
  size_t i;
  for (i = 0; i < A->ntools; i++)
    if (!strcmp(A->tools[i].name, name)) return &A->tools[i];
  return NULL;
}

/* Call c ended with result (taken). */
static void call_end(tool_call *c, int is_error, orc_json *result,
                     const char *error, const char *cause) {
  invocation *inv = c->inv;
  orc_execution *X = inv->X;
  orc_engine *E = X->E;
  char *text;
  double latency = (double)(orc_engine_now(E) - c->started_ms);
  c->done = 1;
  c->is_error = is_error;
  c->result = result ? result : orc_json_null();
  if (is_error) {
    c->last_event = orci_add_event(
        X, c->last_event, ev_of(E, AE_TOOL_FAILED),
        obj(7, "gen_ai.operation.name", jstr("execute_tool"),
            "gen_ai.tool.name", jstr(c->name), "gen_ai.tool.call.id",
            jstr(c->id), "error", jstr(error), "cause", jstr(cause),
            "latencyMs", orc_json_float(latency), "childExecutionArn",
            c->child_arn ? jstr(c->child_arn) : NULL));
  } else {
    text = compact(c->result);
    c->last_event = orci_add_event(
        X, c->last_event, ev_of(E, AE_TOOL_SUCCEEDED),
        obj(6, "gen_ai.operation.name", jstr("execute_tool"),
            "gen_ai.tool.name", jstr(c->name), "gen_ai.tool.call.id",
            jstr(c->id), "result", jstr(text ? text : "null"), "latencyMs",
            orc_json_float(latency), "childExecutionArn",
            c->child_arn ? jstr(c->child_arn) : NULL));
    free(text);
  }
  if (c->last_event > inv->last_event) inv->last_event = c->last_event;
  if (--inv->npending == 0 && inv->phase == P_TOOLS_WAIT) {
    inv->phase = P_TOOLS_DONE;
    inv_enqueue(inv);
  }
}

static void call_error(tool_call *c, const char *error, const char *cause) {
  char msg[1200];
  snprintf(msg, sizeof msg, "Error (%s): %s", error, cause ? cause : "");
  call_end(c, 1, jstr(msg), error, cause);
}

static void tool_done(void *data, orc_task *T, int ok, orc_json *output,
                      const char *error, const char *cause) {
  tool_call *c = (tool_call *)data;
  (void)T;
  c->task = NULL;
  if (ok < 0 || c->done || c->inv->phase != P_TOOLS_WAIT) {
    orc_json_unref(output);
    return;
  }
  if (!ok) {
    call_error(c, error ? error : "States.TaskFailed", cause);
    return;
  }
  if (c->tool &&
      (c->tool->kind == ORC_TOOL_MACHINE || c->tool->kind == ORC_TOOL_AGENT)) {
    /* DescribeExecution's answer: the result is the child's output */
    orc_json *o = orc_json_object_find(output, "Output", 6), *r = NULL;
    if (o && c->tool->kind == ORC_TOOL_AGENT)
      r = orc_json_object_find(o, "text", 4);
    else
      r = o;
    r = r ? orc_json_ref(r) : orc_json_null();
    orc_json_unref(output);
    output = r;
  }
  call_end(c, 0, output, NULL, NULL);
}

/* The identity of a call for the repeated-call check. */
static char *call_sig(const char *name, const orc_json *args) {
  char *a = compact(args), *s;
  size_t n = strlen(name) + (a ? strlen(a) : 4) + 2;
  s = (char *)malloc(n);
  if (s) snprintf(s, n, "%s\x1f%s", name, a ? a : "null");
  free(a);
  return s;
}

/* calls: the assistant message's content (text and tool_use parts). */
static void start_tools(invocation *inv, const orc_json *content) {
  orc_agent *A = inv->A;
  orc_execution *X = inv->X;
  orc_engine *E = X->E;
  size_t i, n = 0, nparts = orc_json_len(content);
  for (i = 0; i < nparts; i++) {
    const char *type = field_str(orc_json_array_get(content, i), "type");
    if (type && !strcmp(type, "tool_use")) n++;
  }
  /* a loop of identical calls ends the invocation */
  for (i = 0; i < nparts; i++) {
    orc_json *p = orc_json_array_get(content, i);
    const char *type = field_str(p, "type");
    char *sig;
    if (type == NULL || strcmp(type, "tool_use")) continue;
    sig = call_sig(field_str(p, "name"), orc_json_object_find(p, "input", 5));
    if (sig && inv->last_sig && !strcmp(sig, inv->last_sig)) {
      free(sig);
      inv->repeats++;
    } else {
      free(inv->last_sig);
      inv->last_sig = sig;
      inv->repeats = 1;
    }
    if (inv->repeats >= A->max_repeated) {
      fail(inv, ORC_AGENT_REPEATED_CALL,
           "the model called tool '%s' %d times in a row with the same "
           "arguments",
           field_str(p, "name"), inv->repeats);
      return;
    }
  }
  inv->calls = (tool_call *)calloc(n, sizeof *inv->calls);
  if (inv->calls == NULL) {
    fail(inv, ORC_AGENT_MODEL_ERROR, "out of memory");
    return;
  }
  inv->ncalls = n;
  inv->npending = n;
  inv->phase = P_TOOLS_WAIT;
  n = 0;
  for (i = 0; i < nparts; i++) {
    orc_json *p = orc_json_array_get(content, i), *args;
    const char *type = field_str(p, "type");
    tool_call *c;
    if (type == NULL || strcmp(type, "tool_use")) continue;
    c = &inv->calls[n++];
    c->inv = inv;
    c->id = dupstr(field_str(p, "id"));
    c->name = dupstr(field_str(p, "name"));
    args = orc_json_object_find(p, "input", 5);
    c->args_text = compact(args);
    if (args && orc_json_type_of(args) == ORC_JSON_OBJECT)
      c->args = orc_json_ref(args);
    c->tool = tool_find(A, c->name);
    c->started_ms = orc_engine_now(E);
    c->last_event =
        orci_add_event(X, inv->last_event, ev_of(E, AE_TOOL_SCHEDULED),
                       obj(4, "gen_ai.operation.name", jstr("execute_tool"),
                           "gen_ai.tool.name", jstr(c->name),
                           "gen_ai.tool.call.id", jstr(c->id), "arguments",
                           jstr(c->args_text ? c->args_text : "null")));
  }
  for (i = 0; i < inv->ncalls && X->status == ORC_STATUS_RUNNING; i++) {
    tool_call *c = &inv->calls[i];
    orc_error err;
    orc_json *input;
    orc_task *T = NULL;
    if (c->tool == NULL) {
      char names[600];
      size_t k, len = 0;
      names[0] = '\0';
      for (k = 0; k < A->ntools && len + 70 < sizeof names; k++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                k ? ", " : "", A->tools[k].name);
      {
        char cause[800];
        snprintf(cause, sizeof cause, "unknown tool '%s': the tools are %s",
                 c->name, A->ntools ? names : "(none)");
        call_error(c, "Agent.UnknownTool", cause);
      }
      continue;
    }
    if (c->args == NULL) {
      char cause[600];
      snprintf(cause, sizeof cause,
               "the arguments of '%s' are not a JSON object: %.400s", c->name,
               c->args_text ? c->args_text : "null");
      call_error(c, "Agent.InvalidToolArguments", cause);
      continue;
    }
    if (c->tool->schema &&
        orci_schema_validate(c->tool->schema, c->args, &err) != ORC_OK) {
      char cause[600];
      snprintf(cause, sizeof cause,
               "the arguments of '%s' do not match its schema: %s", c->name,
               err.message);
      call_error(c, "Agent.InvalidToolArguments", cause);
      continue;
    }
    c->last_event = orci_add_event(X, c->last_event, ev_of(E, AE_TOOL_STARTED),
                                   obj(2, "gen_ai.tool.name", jstr(c->name),
                                       "gen_ai.tool.call.id", jstr(c->id)));
    if (c->tool->kind == ORC_TOOL_RETURN)
      input = obj(3, "id", jstr(c->id), "name", jstr(c->name), "arguments",
                  orc_json_ref(c->args));
    else
      input = orc_json_ref(c->args);
    if (orci_task_launch(X, c->tool->resource, c->tool->name, input,
                         &tool_owner, c, &T) != ORC_OK) {
      call_error(c, "States.Runtime", "out of memory");
      continue;
    }
    if (T && !c->done && X->status == ORC_STATUS_RUNNING)
      c->task = T;
    else if (T) /* the call ended the invocation (a handler stopped it) */
      orci_drop_task(E, T);
  }
}

static void tools_finish(invocation *inv) {
  orc_json *content = orc_json_array_new(inv->ncalls);
  size_t i;
  if (content)
    for (i = 0; i < inv->ncalls; i++) {
      tool_call *c = &inv->calls[i];
      orc_json_array_set(content, i,
                         obj(4, "type", jstr("tool_result"), "tool_use_id",
                             jstr(c->id), "content", orc_json_ref(c->result),
                             "is_error", orc_json_bool(c->is_error)));
    }
  add_message(inv, obj(2, "role", jstr("user"), "content", content));
  calls_free(inv);
  inv->phase = P_MODEL;
  model_call(inv);
}

/* }====== */

/* {====== the final answer */

/* The JSON in a model's text: the whole text, or inside ``` fences. */
static int parse_answer(const char *text, orc_json **out, orc_error *err) {
  const char *s = text, *e = text + strlen(text);
  const char *f = strstr(text, "```");
  if (f) {
    const char *nl = strchr(f + 3, '\n'), *g;
    if (nl && (g = strstr(nl + 1, "```")) != NULL) {
      s = nl + 1;
      e = g;
    }
  }
  return orc_json_parse(s, (size_t)(e - s), NULL, out, err);
}

static void final_answer(invocation *inv, const char *text) {
  orc_agent *A = inv->A;
  orc_json *structured = NULL, *output;
  if (A->output_schema) {
    orc_error err;
    char why[400];
    int rc = parse_answer(text, &structured, &err);
    if (rc != ORC_OK)
      snprintf(why, sizeof why, "the answer is not JSON: %s", err.message);
    else if (orci_schema_validate(A->output_schema, structured, &err) !=
             ORC_OK) {
      snprintf(why, sizeof why, "the answer does not match the schema: %s",
               err.message);
      rc = -1;
    }
    if (rc != ORC_OK) {
      orc_json_unref(structured);
      if (!inv->repaired) {
        char *schema = compact(A->output_schema);
        size_t n = strlen(why) + (schema ? strlen(schema) : 0) + 200;
        char *msg = (char *)malloc(n);
        inv->repaired = 1;
        if (msg)
          snprintf(msg, n,
                   "%s. Answer again with only a JSON value that matches "
                   "this JSON Schema: %s",
                   why, schema ? schema : "{}");
        add_message(inv, text_message("user", msg ? msg : why));
        free(msg);
        free(schema);
        inv->phase = P_MODEL;
        model_call(inv);
        return;
      }
      fail(inv, ORC_AGENT_INVALID, "%s (after one repair round trip)", why);
      return;
    }
  }
  if (inv->S) { /* the session remembers the conversation */
    size_t i;
    vec_unref(inv->X->E, &inv->S->msgs);
    for (i = 0; i < inv->msgs.n; i++) {
      orc_json *m = orc_json_ref(ORCI_VEC_AT(&inv->msgs, orc_json *, i));
      if (orci_vec_push(&inv->X->E->mem, &inv->S->msgs, sizeof m, &m) !=
          ORC_OK) {
        orc_json_unref(m);
        break;
      }
    }
  }
  output = obj(5, "text", jstr(text), "structured", structured, "steps",
               orc_json_int(inv->steps), "usage", usage_json(&inv->usage),
               "transcript", vec_array(&inv->msgs));
  inv->phase = P_END;
  orci_finish(inv->X, ORC_STATUS_SUCCEEDED, output ? output : orc_json_null(),
              NULL, NULL, inv->last_event);
  orc_json_unref(output);
}

/* }====== */

/* {====== built-in resources: return of control, machines and agents as
** tools */

static int return_start(void *ud, orc_task *T) {
  (void)ud;
  (void)T;
  return ORC_OK; /* pending until the caller answers */
}

static void link_child(orc_task *T, tool_call *c, orc_execution *C) {
  orc_execution *X = T->X;
  char *arn_copy = orci_strdup(X->E, C->arn); /* the engine's, as nested.c */
  orci_set_str(X->E, &C->parent_arn, X->arn);
  if (arn_copy && orci_vec_push(&X->E->mem, &X->nested, sizeof arn_copy,
                                &arn_copy) != ORC_OK)
    orci_strfree(X->E, arn_copy);
  free(c->child_arn);
  c->child_arn = strdup(C->arn);
  T->child = C;
  T->sync = 2;
  C->parent_task = T;
}

static int child_start(void *ud, orc_task *T) {
  tool_call *c = (tool_call *)T->owner_data;
  orc_execution *C = NULL;
  orc_error err;
  int rc;
  (void)ud;
  if (T->owner != &tool_owner || c->tool == NULL) {
    orci_task_complete(T, 0, NULL, "States.Runtime", "not an agent's tool call",
                       NULL);
    return ORC_OK;
  }
  if (c->tool->kind == ORC_TOOL_MACHINE) {
    rc = orc_execution_start(c->tool->machine, T->input, NULL, &C, &err);
  } else {
    const char *prompt = field_str(T->input, "prompt");
    char *text = prompt ? NULL : compact(T->input);
    rc = orc_agent_start(c->tool->agent,
                         prompt ? prompt
                         : text ? text
                                : "",
                         NULL, NULL, &C, &err);
    free(text);
  }
  if (rc != ORC_OK) {
    orci_task_complete(T, 0, NULL, "States.TaskFailed", err.message, NULL);
    return ORC_OK;
  }
  link_child(T, c, C);
  return ORC_OK;
}

/* }====== */

/* {====== providers: the model call as an HTTP request, with retries */

static orci_http *engine_http(orc_engine *E, orc_error *err) {
  if (E->http == NULL) {
    E->http = orci_http_new(NULL, NULL, err);
    if (E->http) orci_posts_set_http(E->posts, E->http);
  }
  return E->http;
}

static void llm_cancel(invocation *inv) {
  llm_call *c = inv->llm;
  if (c == NULL) return;
  inv->llm = NULL;
  if (c->http_id && inv->X->E->http)
    orci_http_cancel(inv->X->E->http, c->http_id);
  orci_timer_cancel(&inv->X->E->sched, &c->t_retry);
  orc_task_release(c->T);
  free(c);
}

/* End the provider call: answer its task (output taken). */
static void llm_end(llm_call *c, int ok, orc_json *output, const char *error,
                    const char *cause) {
  invocation *inv = c->inv;
  orc_task *T = c->T;
  inv->llm = NULL;
  free(c);
  orci_task_complete(T, ok, output, error, cause, NULL);
  orc_task_release(T);
}

/* Views of the conversation for the provider's builder. */
typedef struct conv_views {
  orci_llm_message *msgs;
  orci_llm_part *parts;
} conv_views;

static int conv_build(invocation *inv, orci_llm_conversation *cv,
                      conv_views *v) {
  orc_agent *A = inv->A;
  size_t i, j, np = 0, k = 0;
  memset(cv, 0, sizeof *cv);
  v->msgs = NULL;
  v->parts = NULL;
  for (i = 0; i < inv->msgs.n; i++)
    np += orc_json_len(orc_json_object_find(
        ORCI_VEC_AT(&inv->msgs, orc_json *, i), "content", 7));
  v->msgs = (orci_llm_message *)calloc(inv->msgs.n + 1, sizeof *v->msgs);
  v->parts = (orci_llm_part *)calloc(np + 1, sizeof *v->parts);
  if (v->msgs == NULL || v->parts == NULL) return -1;
  for (i = 0; i < inv->msgs.n; i++) {
    orc_json *m = ORCI_VEC_AT(&inv->msgs, orc_json *, i);
    orc_json *content = orc_json_object_find(m, "content", 7);
    const char *role = field_str(m, "role");
    orci_llm_message *lm = &v->msgs[i];
    lm->role =
        role && !strcmp(role, "assistant") ? ORCI_LLM_ASSISTANT : ORCI_LLM_USER;
    lm->parts = &v->parts[k];
    for (j = 0; j < orc_json_len(content); j++) {
      orc_json *p = orc_json_array_get(content, j);
      const char *type = field_str(p, "type");
      orci_llm_part *lp = &v->parts[k++];
      if (type && !strcmp(type, "tool_use")) {
        lp->type = ORCI_LLM_TOOL_USE;
        lp->id = field_str(p, "id");
        lp->name = field_str(p, "name");
        lp->input = orc_json_object_find(p, "input", 5);
      } else if (type && !strcmp(type, "tool_result")) {
        orc_json *e = orc_json_object_find(p, "is_error", 8);
        lp->type = ORCI_LLM_TOOL_RESULT;
        lp->id = field_str(p, "tool_use_id");
        lp->result = orc_json_object_find(p, "content", 7);
        lp->is_error = e && orc_json_is_true(e);
      } else {
        lp->type = ORCI_LLM_TEXT;
        lp->text = field_str(p, "text");
        if (lp->text == NULL) lp->text = "";
      }
      lm->nparts++;
    }
  }
  cv->system = A->instructions;
  cv->messages = v->msgs;
  cv->nmessages = inv->msgs.n;
  cv->tools = A->llm_tools;
  cv->ntools = A->ntools;
  cv->max_tokens = call_max_tokens(inv);
  cv->temperature = A->temperature;
  return 0;
}

static void llm_http_done(void *ud, const orci_http_response *res);

/* Send (or resend) the request. */
static void llm_send(llm_call *c) {
  invocation *inv = c->inv;
  orc_agent *A = inv->A;
  orc_engine *E = inv->X->E;
  orci_llm_conversation cv;
  conv_views views;
  orci_llm_http req;
  orci_http_req hr;
  orc_error err;
  orci_http *h = engine_http(E, &err);
  int rc;
  if (h == NULL) {
    llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, err.message);
    return;
  }
  memset(&req, 0, sizeof req);
  if (conv_build(inv, &cv, &views) != 0) {
    free(views.msgs);
    free(views.parts);
    llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, "out of memory");
    return;
  }
  rc = orci_llm_build(A->provider, &cv, (int64_t)time(NULL), &req, &err);
  free(views.msgs);
  free(views.parts);
  if (rc != ORC_OK) {
    orci_llm_http_free(&req);
    llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, err.message);
    return;
  }
  orci_llm_http_as_req(&req, A->timeout_ms, &hr);
  c->http_id = orci_http_request(h, &hr, llm_http_done, c, &err);
  orci_llm_http_free(&req);
  if (c->http_id == 0) llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, err.message);
}

static void llm_retry_fired(orc_engine *E, void *data) {
  llm_call *c = (llm_call *)data;
  invocation *inv = c->inv;
  c->attempt++;
  inv->last_event =
      orci_add_event(inv->X, inv->last_event, ev_of(E, AE_MODEL_STARTED),
                     obj(1, "attempt", orc_json_int(c->attempt)));
  llm_send(c);
}

/* The provider's turn as the loop reads turns. */
static orc_json *turn_json(const orci_llm_turn *t) {
  static const char *const stops[] = {"end_turn",       "tool_use",
                                      "max_tokens",     "stop_sequence",
                                      "content_filter", "other"};
  orc_json *calls = orc_json_array_new(t->ncalls);
  size_t i;
  if (calls)
    for (i = 0; i < t->ncalls; i++) {
      const orci_llm_tool_call *c = &t->calls[i];
      orc_json_array_set(
          calls, i,
          obj(3, "id", jstr(c->id), "name", jstr(c->name), "arguments",
              c->arguments ? orc_json_ref(c->arguments)
                           : jstr(c->arguments_text ? c->arguments_text : "")));
    }
  return obj(
      5, "text", t->text ? jstr(t->text) : NULL, "tool_calls", calls,
      "stop_reason", jstr(stops[t->stop]), "stop_raw",
      t->stop_raw ? jstr(t->stop_raw) : NULL, "usage",
      obj(4, "input_tokens",
          orc_json_int(t->usage.input_tokens > 0 ? t->usage.input_tokens : 0),
          "output_tokens",
          orc_json_int(t->usage.output_tokens > 0 ? t->usage.output_tokens : 0),
          "cache_read_tokens",
          orc_json_int(
              t->usage.cache_read_tokens > 0 ? t->usage.cache_read_tokens : 0),
          "cache_write_tokens",
          orc_json_int(t->usage.cache_write_tokens > 0
                           ? t->usage.cache_write_tokens
                           : 0)));
}

static void llm_http_done(void *ud, const orci_http_response *res) {
  llm_call *c = (llm_call *)ud;
  invocation *inv = c->inv;
  orc_agent *A = inv->A;
  orc_engine *E = inv->X->E;
  orci_llm_turn t;
  orci_llm_error e;
  double delay;
  c->http_id = 0;
  if (orci_llm_parse(A->provider, res, (double)time(NULL), &t, &e) == ORC_OK) {
    orc_json *out = turn_json(&t);
    orci_llm_turn_free(&t);
    if (out == NULL)
      llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, "out of memory");
    else
      llm_end(c, 1, out, NULL, NULL);
    return;
  }
  delay = orci_llm_retry_delay(&e, c->attempt, &A->retry,
                               (double)(orci_rng_next(E) >> 11) /
                                   9007199254740992.0);
  if (delay < 0) {
    char cause[700];
    snprintf(cause, sizeof cause, "%s (attempt %d%s%s)", e.message, c->attempt,
             e.type[0] ? ", " : "", e.type);
    llm_end(c, 0, NULL, e.name ? e.name : ORC_AGENT_MODEL_ERROR, cause);
    return;
  }
  inv->last_event = orci_add_event(
      inv->X, inv->last_event, ev_of(E, AE_MODEL_FAILED),
      obj(6, "gen_ai.provider.name", jstr(A->otel_provider), "error",
          jstr(ORC_AGENT_MODEL_ERROR), "cause", jstr(e.message), "status",
          orc_json_int(e.status), "attempt", orc_json_int(c->attempt),
          "retryInMs", orc_json_float(floor(delay))));
  if (orci_timer_set(&E->sched, orc_engine_now(E) + (int64_t)delay,
                     llm_retry_fired, c, &c->t_retry) != ORC_OK)
    llm_end(c, 0, NULL, ORC_AGENT_MODEL_ERROR, "out of memory");
}

static int llm_start(void *ud, orc_task *T) {
  invocation *inv;
  llm_call *c;
  (void)ud;
  if (T->owner != &model_owner) {
    orci_task_complete(T, 0, NULL, "States.Runtime",
                       "orchestra:llm: resources are the agents' own", NULL);
    return ORC_OK;
  }
  inv = (invocation *)T->owner_data;
  c = (llm_call *)calloc(1, sizeof *c);
  if (c == NULL) {
    orci_task_complete(T, 0, NULL, ORC_AGENT_MODEL_ERROR, "out of memory",
                       NULL);
    return ORC_OK;
  }
  c->inv = inv;
  c->T = T;
  c->attempt = 1;
  orc_task_retain(T);
  inv->llm = c;
  /* building and starting a request (and libcurl's connecting and sending
  ** it in the next perform) weighs like three host handler calls in the
  ** step's work bound: 200 invocations starting at once spread their
  ** requests over several steps of well under a millisecond */
  T->X->E->dispatched += 3;
  llm_send(c);
  return ORC_OK;
}

/* }====== */

/* {====== compiling agents */

void orc_agent_config_init(orc_agent_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->max_steps = 10;
  cfg->temperature = -1;
  cfg->max_repeated_calls = 3;
  cfg->retry_max_attempts = 3;
  cfg->retry_base_ms = 1000;
  cfg->retry_max_ms = 60000;
}

static void agent_free(orc_agent *A) {
  size_t i;
  for (i = 0; i < A->sessions.cap; i++) {
    void *s = A->sessions.slots ? A->sessions.slots[i].item : NULL;
    if (s && s != ORCI_TABLE_TOMB) session_free(A->E, (session *)s);
  }
  orci_table_free(&A->E->mem, &A->sessions);
  for (i = 0; i < A->ntools; i++) {
    free(A->tools[i].name);
    free(A->tools[i].description);
    free(A->tools[i].resource);
    orc_json_unref(A->tools[i].schema);
  }
  free(A->tools);
  free(A->llm_tools);
  orc_json_unref(A->tools_json);
  orc_json_unref(A->output_schema);
  orci_llm_provider_free(A->provider);
  free(A->name);
  free(A->instructions);
  free(A->model_resource);
  free(A->otel_provider);
  free(A->model_name);
  free(A->M.arn);
  free(A);
}

void orci_agents_free(orc_engine *E) {
  orci_agents *R = (orci_agents *)E->agents;
  size_t i;
  if (R) {
    for (i = 0; i < R->list.n; i++)
      agent_free(ORCI_VEC_AT(&R->list, orc_agent *, i));
    orci_vec_free(&E->mem, &R->list);
    free(R);
    E->agents = NULL;
  }
  if (E->http) orci_posts_set_http(E->posts, NULL);
  orci_http_free(E->http);
  E->http = NULL;
}

orc_agent *orc_engine_find_agent(orc_engine *E, const char *name) {
  orci_agents *R = agents_of(E, 0);
  size_t i;
  if (R == NULL || name == NULL) return NULL;
  for (i = 0; i < R->list.n; i++) {
    orc_agent *A = ORCI_VEC_AT(&R->list, orc_agent *, i);
    if (!strcmp(A->name, name)) return A;
  }
  return NULL;
}

orc_machine *orci_agent_record(orc_engine *E, const char *name, size_t len) {
  orci_agents *R = agents_of(E, 0);
  size_t i;
  if (R == NULL) return NULL;
  for (i = 0; i < R->list.n; i++) {
    orc_agent *A = ORCI_VEC_AT(&R->list, orc_agent *, i);
    if (strlen(A->name) == len && !strncmp(A->name, name, len)) return &A->M;
  }
  return NULL;
}

const char *orc_agent_name(const orc_agent *A) {
  return A->name;
}

static int valid_tool_name(const char *s) {
  size_t n = strlen(s), i;
  if (n == 0 || n > 64) return 0;
  for (i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

static char *join4(const char *a, const char *b, const char *c, const char *d) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
  char *s = (char *)malloc(n);
  if (s) snprintf(s, n, "%s%s%s%s", a, b, c, d);
  return s;
}

/* Register the built-in resources once per engine. */
static int register_resources(orc_engine *E) {
  if (orci_resource_find(E, "orchestra:llm:") != NULL) return ORC_OK;
  if (orci_resource_add(E, "orchestra:llm:", llm_start, E) != ORC_OK ||
      orci_resource_add(E, "orchestra:return:", return_start, E) != ORC_OK ||
      orci_resource_add(E, "orchestra:child:", child_start, E) != ORC_OK)
    return ORC_ENOMEM;
  return ORC_OK;
}

/* A budget needs the model's price: 1 (err set) when the engine has a
** catalog that does not price A's model. Without a catalog the check
** waits for the invocation's start (a host may set one later). */
static int budget_unpriced(const orc_agent *A, double usd, orc_error *err) {
  const orc_cost_catalog *C = orc_engine_catalog(A->E);
  orc_cost_model_price price;
  orc_error why;
  if (C == NULL ||
      orc_cost_catalog_model(C, A->model_name, &price, &why) == ORC_OK)
    return 0;
  orci_error(err, ORC_EINVAL, "/budget_usd", "budget_usd %g: %s%s", usd,
             why.message,
             A->model_kind == ORC_MODEL_SCRIPTED
                 ? " (a scripted model is priced as the model it names: "
                   "orchestra.models.scripted{model = ...})"
                 : "");
  return 1;
}

const char *orci_agent_model_name(const orc_execution *X) {
  return X->agent ? ((invocation *)X->agent)->A->model_name : NULL;
}

int orci_agent_check_budget(const orc_execution *X, double usd,
                            orc_error *err) {
  return X->agent && budget_unpriced(((invocation *)X->agent)->A, usd, err)
             ? ORC_EINVAL
             : ORC_OK;
}

int orc_agent_new(orc_engine *E, const orc_agent_config *cfg, orc_agent **out,
                  orc_error *err) {
  orci_agents *R = agents_of(E, 1);
  orc_agent *A;
  char auto_name[32];
  const char *name = cfg->name;
  size_t i, n;
  *out = NULL;
  if (R == NULL || register_resources(E) != ORC_OK)
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  if (name == NULL) { /* the first of "Agent", "Agent-2", ... not taken */
    size_t k = 1;
    snprintf(auto_name, sizeof auto_name, "Agent");
    while (orc_engine_find_agent(E, auto_name))
      snprintf(auto_name, sizeof auto_name, "Agent-%zu", ++k);
    name = auto_name;
  }
  if (!valid_tool_name(name))
    return orci_error(err, ORC_EINVAL, "/name",
                      "agent name '%s' must be 1 to 64 letters, digits, _ "
                      "or -",
                      name);
  if (orc_engine_find_agent(E, name))
    return orci_error(err, ORC_EINVAL, "/name",
                      "an agent named '%s' exists already in this engine",
                      name);
  if (cfg->max_steps < 1)
    return orci_error(err, ORC_EINVAL, "/max_steps",
                      "max_steps must be at least 1, not %d", cfg->max_steps);
  if (cfg->max_tokens < 0 || cfg->timeout_seconds < 0 ||
      cfg->max_repeated_calls < 1 || cfg->retry_max_attempts < 1)
    return orci_error(err, ORC_EINVAL, NULL,
                      "max_tokens, timeout_seconds must be >= 0; "
                      "max_repeated_calls, retry.max_attempts >= 1");
  if (cfg->output_schema &&
      orci_schema_check(cfg->output_schema, err) != ORC_OK)
    return ORC_EINVAL;
  if (!(cfg->budget_usd >= 0 && cfg->budget_usd < HUGE_VAL))
    return orci_error(err, ORC_EINVAL, "/budget_usd",
                      "budget_usd must be a finite number >= 0, not %g",
                      cfg->budget_usd);
  A = (orc_agent *)calloc(1, sizeof *A);
  if (A == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  A->E = E;
  A->name = strdup(name);
  A->instructions = dupstr(cfg->instructions);
  A->M.E = E;
  A->M.name = A->name;
  n = strlen(name) + strlen(E->region) + strlen(E->account) + 40;
  A->M.arn = (char *)malloc(n);
  if (A->M.arn)
    snprintf(A->M.arn, n, "arn:aws:bedrock:%s:%s:agent/%s", E->region,
             E->account, name);
  A->max_steps = cfg->max_steps;
  A->max_tokens = cfg->max_tokens;
  A->temperature = cfg->temperature;
  A->output_schema =
      cfg->output_schema ? orc_json_ref(cfg->output_schema) : NULL;
  A->timeout_s = cfg->timeout_seconds;
  A->max_repeated = cfg->max_repeated_calls;
  A->retry.max_attempts = cfg->retry_max_attempts;
  A->retry.base_ms = cfg->retry_base_ms;
  A->retry.max_ms = cfg->retry_max_ms;
  A->retry.jitter = 0.25;
  A->model_kind = cfg->model.kind;
  A->timeout_ms = cfg->model.timeout_ms > 0 ? cfg->model.timeout_ms : 120000;
  A->with_messages = cfg->model.with_messages;
  if (A->name == NULL || A->M.arn == NULL) {
    agent_free(A);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  if (cfg->model.kind == ORC_MODEL_SCRIPTED) {
    A->model_resource = cfg->model.resource
                            ? strdup(cfg->model.resource)
                            : join4("orchestra:model:", name, "", "");
    A->otel_provider = strdup("scripted");
    A->model_name = strdup(cfg->model.model ? cfg->model.model : "scripted");
  } else if (cfg->model.kind >= ORC_MODEL_OPENAI &&
             cfg->model.kind <= ORC_MODEL_BEDROCK) {
    orci_llm_config lc;
    memset(&lc, 0, sizeof lc);
    lc.kind = cfg->model.kind == ORC_MODEL_OPENAI      ? ORCI_LLM_OPENAI
              : cfg->model.kind == ORC_MODEL_ANTHROPIC ? ORCI_LLM_ANTHROPIC
                                                       : ORCI_LLM_BEDROCK;
    lc.model = cfg->model.model;
    lc.base_url = cfg->model.base_url;
    lc.api_key = cfg->model.api_key;
    lc.anthropic_version = cfg->model.anthropic_version;
    lc.region = cfg->model.region;
    lc.endpoint_url = cfg->model.endpoint_url;
    if (orci_llm_provider_new(&lc, NULL, NULL, &A->provider, err) != ORC_OK) {
      agent_free(A);
      return ORC_EINVAL;
    }
    A->model_resource = join4("orchestra:llm:", name, "", "");
    /* libcurl and TLS start now, not in the step of the first call */
    if (engine_http(E, err) == NULL) {
      agent_free(A);
      return err->code;
    }
    A->otel_provider = strdup(orci_llm_provider_otel_name(A->provider));
    A->model_name = strdup(orci_llm_provider_model(A->provider));
  } else {
    agent_free(A);
    return orci_error(err, ORC_EINVAL, "/model", "unknown model kind %d",
                      cfg->model.kind);
  }
  A->tools = (agent_tool *)calloc(cfg->ntools + 1, sizeof *A->tools);
  A->llm_tools = (orci_llm_tool *)calloc(cfg->ntools + 1, sizeof *A->llm_tools);
  A->tools_json = orc_json_array_new(cfg->ntools);
  if (A->tools == NULL || A->llm_tools == NULL || A->tools_json == NULL ||
      A->model_resource == NULL) {
    agent_free(A);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  for (i = 0; i < cfg->ntools; i++) {
    const orc_agent_tool *t = &cfg->tools[i];
    agent_tool *d = &A->tools[i];
    size_t j;
    if (t->name == NULL || !valid_tool_name(t->name)) {
      orci_error(err, ORC_EINVAL, "/tools",
                 "tool name '%s' must be 1 to 64 letters, digits, _ or -",
                 t->name ? t->name : "");
      agent_free(A);
      return ORC_EINVAL;
    }
    for (j = 0; j < i; j++)
      if (!strcmp(cfg->tools[j].name, t->name)) {
        orci_error(err, ORC_EINVAL, "/tools", "tool '%s' is declared twice",
                   t->name);
        agent_free(A);
        return ORC_EINVAL;
      }
    if (t->schema && orci_schema_check(t->schema, err) != ORC_OK) {
      char msg[256];
      snprintf(msg, sizeof msg, "%s", err->message);
      orci_error(err, ORC_EINVAL, "/tools", "tool '%s': schema: %s", t->name,
                 msg);
      agent_free(A);
      return ORC_EINVAL;
    }
    if ((t->kind == ORC_TOOL_MACHINE && t->machine == NULL) ||
        (t->kind == ORC_TOOL_AGENT && t->agent == NULL) || t->kind < 0 ||
        t->kind > ORC_TOOL_AGENT) {
      orci_error(err, ORC_EINVAL, "/tools", "tool '%s': bad kind", t->name);
      agent_free(A);
      return ORC_EINVAL;
    }
    A->ntools = i + 1;
    d->name = strdup(t->name);
    d->description = dupstr(t->description);
    d->schema = t->schema ? orc_json_ref(t->schema) : NULL;
    d->kind = t->kind;
    d->machine = t->machine;
    d->agent = t->agent;
    if (t->kind == ORC_TOOL_HOST && t->resource)
      d->resource = strdup(t->resource);
    else
      d->resource = join4(t->kind == ORC_TOOL_HOST     ? "orchestra:tool:"
                          : t->kind == ORC_TOOL_RETURN ? "orchestra:return:"
                                                       : "orchestra:child:",
                          name, ":", t->name);
    if (d->name == NULL || d->resource == NULL) {
      agent_free(A);
      return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    }
    A->llm_tools[i].name = d->name;
    A->llm_tools[i].description = d->description;
    A->llm_tools[i].schema = d->schema;
    orc_json_array_set(
        A->tools_json, i,
        obj(3, "name", jstr(d->name), "description",
            d->description ? jstr(d->description) : NULL, "schema",
            d->schema ? orc_json_ref(d->schema) : orc_json_object_new(0)));
  }
  A->budget_usd = cfg->budget_usd;
  A->fixed_bytes = (A->instructions ? strlen(A->instructions) : 0) +
                   orci_json_size(A->tools_json);
  if (A->budget_usd > 0 && budget_unpriced(A, A->budget_usd, err)) {
    agent_free(A);
    return ORC_EINVAL;
  }
  if (orci_vec_push(&E->mem, &R->list, sizeof A, &A) != ORC_OK) {
    agent_free(A);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  *out = A;
  return ORC_OK;
}

/* }====== */

/* {====== invocations */

orc_agent *orc_execution_agent(const orc_execution *X) {
  return X->agent ? ((invocation *)X->agent)->A : NULL;
}

size_t orc_agent_pending_tools(const orc_execution *X, orc_task **out,
                               size_t max) {
  invocation *inv = (invocation *)X->agent;
  size_t i, n = 0;
  if (inv == NULL || X->status != ORC_STATUS_RUNNING) return 0;
  for (i = 0; i < inv->ncalls; i++) {
    tool_call *c = &inv->calls[i];
    if (c->task && c->tool && c->tool->kind == ORC_TOOL_RETURN) {
      if (n < max) out[n] = c->task;
      n++;
    }
  }
  return n;
}

int orc_agent_start(orc_agent *A, const char *prompt, const char *session_id,
                    const char *name, orc_execution **out, orc_error *err) {
  orc_engine *E = A->E;
  orc_execution *X = NULL;
  invocation *inv;
  orc_json *input;
  size_t i;
  int rc;
  *out = NULL;
  if (prompt == NULL) prompt = "";
  if (orc_utf8_check(prompt, strlen(prompt)) != (size_t)-1)
    return orci_error(err, ORC_EINVAL, NULL, "the prompt is not valid UTF-8");
  inv = (invocation *)calloc(1, sizeof *inv);
  if (inv == NULL) return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  input = obj(2, "inputText", jstr(prompt), "sessionId",
              session_id ? jstr(session_id) : NULL);
  if (input == NULL) {
    free(inv);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  rc = orci_execution_open(&A->M, input, name, &X, err);
  orc_json_unref(input);
  if (rc != ORC_OK) {
    free(inv);
    return rc;
  }
  X->agent = inv;
  inv->A = A;
  inv->X = X;
  if (session_id) {
    inv->S = session_get(A, session_id);
    if (inv->S == NULL) {
      orc_execution_close(X);
      return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
    }
    for (i = 0; i < inv->S->msgs.n; i++) {
      orc_json *m = orc_json_ref(ORCI_VEC_AT(&inv->S->msgs, orc_json *, i));
      if (orci_vec_push(&inv->X->E->mem, &inv->msgs, sizeof m, &m) != ORC_OK) {
        orc_json_unref(m);
        orc_execution_close(X);
        return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
      }
    }
    inv->attrs = orc_json_ref(inv->S->attrs);
  } else {
    inv->attrs = orc_json_object_new(0);
  }
  if ((A->budget_usd > 0 &&
       (rc = orc_execution_set_budget(X, A->budget_usd, err)) != ORC_OK) ||
      (X->budget_usd > 0 &&
       (rc = orci_agent_check_budget(X, X->budget_usd, err)) != ORC_OK)) {
    orc_execution_close(X);
    return rc;
  }
  add_message(inv, text_message("user", prompt));
  inv->last_event = orci_add_event(
      X, 0, ev_of(E, AE_STARTED),
      obj(5, "input", jstr(prompt), "agentName", jstr(A->name), "sessionId",
          session_id ? jstr(session_id) : NULL, "gen_ai.operation.name",
          jstr("invoke_agent"), "gen_ai.agent.name", jstr(A->name)));
  X->root.run.run = inv_run;
  inv->phase = P_MODEL;
  if (A->timeout_s > 0 &&
      orci_timer_set(&E->sched, X->start_ms + (int64_t)(A->timeout_s * 1000.0),
                     timeout_fired, inv, &inv->t_timeout) != ORC_OK) {
    orc_execution_close(X);
    return orci_error(err, ORC_ENOMEM, NULL, "out of memory");
  }
  inv_enqueue(inv);
  *out = X;
  return ORC_OK;
}

/* }====== */
