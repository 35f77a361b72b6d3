/*
** Engines, machines and executions as Lua userdata. Task handlers are Lua
** functions run in coroutines of their own, only inside engine:step().
*/
#define _POSIX_C_SOURCE 200809L /* strdup, gmtime_r, clock_gettime */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lorchestra.h"
#include "orchestra/agent.h"
#include "orchestra/bedrock.h"
#include "orchestra/budget.h"
#include "orchestra/cost.h"
#include "orchestra/engine.h"

#define ENGINE_MT    "orchestra.Engine"
#define MACHINE_MT   "orchestra.Machine"
#define EXECUTION_MT "orchestra.Execution"
#define ERROR_MT     "orchestra.Error"

typedef struct lengine {
  orc_engine *E;  /* NULL: closed */
  lua_State *L;   /* the state inside engine:step(), else NULL */
  int body;       /* stack index of the dispatch body during a step */
  int handlers;   /* registry ref: resource -> function */
  int default_fn; /* registry ref or LUA_NOREF */
  int clock;
  int parked;      /* registry ref: task (light userdata) -> suspended
                      handler coroutine */
  lua_State *home; /* the creating thread (anchored by home_ref), for
                      bookkeeping outside a step */
  int home_ref;
  int resolver; /* registry ref of the resolver function, or LUA_NOREF */
  int ctxcache; /* registry ref: converted $$.Execution/StateMachine */
  int ncached;
  orc_json **held; /* the values ctxcache's keys point at, kept alive */
  int pool;        /* registry ref: finished handler coroutines to reuse */
  int npool;
  int strings; /* registry ref: a state's resource/name (by address) as a
                  Lua string; states live as long as the engine */
  int hcache;  /* registry ref: resource address -> handler (reset by
                  engine:handler) */
  int pq;      /* registry ref: parked tasks in the order they yielded */
  int pq_head, pq_tail;
  int budget;   /* max_transitions_per_step: resumes per step too */
  int body_ref; /* registry refs of the dispatch and resume closures */
  int resume_ref;
  int xcache;        /* registry ref: weak table, execution (light userdata) ->
                        its one Lua userdata (engine:executions() reuses it) */
  lua_Alloc allocf;  /* the Lua state's allocator: the engine's memory */
  void *alloc_ud;    /* its user data */
  size_t max_memory; /* max_memory option: the cap, or 0 */
  size_t nheld;      /* bytes the engine holds under the cap */
  int catalog_ref;   /* registry ref: the catalog budgets price with */
  int choice_ref;    /* registry ref: the choice_hook function */
} lengine;

/* orchestra.pending: a handler returning it leaves its task pending. */
static const char pending_key = 0;
#define PENDING_UD ((void *)(uintptr_t)&pending_key)

typedef struct lmachine {
  orc_machine *M;
  lengine *eb;
  int engine_ref; /* keeps the engine userdata alive */
} lmachine;

typedef struct lexecution {
  orc_execution *X;
  lengine *eb;
  int engine_ref;
  int fields; /* registry ref: the plain fields as close() left them */
  int owned;  /* made by machine:start: its __gc releases a finished X */
} lexecution;

/* {====== helpers */

static lengine *check_engine(lua_State *L, int i);

orc_engine *orcL_check_engine(lua_State *L, int i) {
  return check_engine(L, i)->E;
}

/* [-0, +0, e] Give b's engine a price catalog for budgets when it has none:
** orchestra.cost.catalog(), the shipped one (data/prices.json) with what
** the program merged into it. Raises when it cannot be loaded. */
static void ensure_catalog(lua_State *L, lengine *b) {
  if (orc_engine_catalog(b->E) != NULL) return;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "orchestra.cost");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "catalog");
  lua_call(L, 0, 1);
  orc_engine_set_catalog(b->E, orcL_checkcatalog(L, lua_gettop(L)));
  luaL_unref(L, LUA_REGISTRYINDEX, b->catalog_ref);
  b->catalog_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps it alive */
  lua_pop(L, 1);
}

void orcL_engine_ensure_catalog(lua_State *L, int i) {
  ensure_catalog(L, check_engine(L, i));
}

/* [-0, +0, e] The budget_usd field of the options at t (0 when absent). */
static double opt_budget(lua_State *L, int t, const char *what) {
  double usd = 0;
  lua_getfield(L, t, "budget_usd");
  if (!lua_isnil(L, -1)) {
    usd = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(usd >= 0 && usd < HUGE_VAL))
      luaL_error(L, "%s: option 'budget_usd' must be a number of dollars >= 0",
                 what);
  }
  lua_pop(L, 1);
  return usd;
}

double orcL_opt_budget(lua_State *L, int t, const char *what) {
  return opt_budget(L, t, what);
}

orc_machine *orcL_to_machine(lua_State *L, int i) {
  lmachine *m = (lmachine *)lua_touserdata(L, i);
  int same;
  if (m == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, MACHINE_MT);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same && m->eb->E ? m->M : NULL;
}

orc_execution *orcL_check_execution(lua_State *L, int i);

void orcL_push_execution(lua_State *L, int engine_idx, orc_execution *X) {
  lengine *b = (lengine *)luaL_checkudata(L, engine_idx, ENGINE_MT);
  lexecution *x;
  if (engine_idx < 0) engine_idx = lua_gettop(L) + engine_idx + 1;
  x = (lexecution *)lua_newuserdata(L, sizeof *x);
  x->X = X;
  x->eb = b;
  x->fields = LUA_NOREF;
  x->owned = 1; /* as machine:start's: __gc releases it once finished */
  luaL_getmetatable(L, EXECUTION_MT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, engine_idx);
  x->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->xcache);
  lua_pushlightuserdata(L, X);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static lengine *check_engine(lua_State *L, int i) {
  lengine *b = (lengine *)orcL_checkudata(L, i, ENGINE_MT);
  if (b->E == NULL) orcL_error(L, "the engine is closed");
  return b;
}

static lmachine *check_machine(lua_State *L, int i) {
  lmachine *m = (lmachine *)orcL_checkudata(L, i, MACHINE_MT);
  if (m->M == NULL || m->eb->E == NULL)
    orcL_error(L, "the machine's engine is closed");
  return m;
}

static lexecution *check_execution(lua_State *L, int i) {
  lexecution *x = (lexecution *)orcL_checkudata(L, i, EXECUTION_MT);
  if (x->X == NULL || x->eb->E == NULL)
    orcL_error(L, x->eb->E == NULL ? "the execution's engine is closed"
                                   : "the execution is closed");
  return x;
}

orc_execution *orcL_check_execution(lua_State *L, int i) {
  return check_execution(L, i)->X;
}

/* Raise {code=, message=[, errors=]} with a __tostring. The table with the
** problems, if any, is on top of the stack when nerrors is set. */
static int raise_error(lua_State *L, const char *code, const char *message,
                       int with_errors) {
  lua_newtable(L);
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  if (with_errors) {
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "errors");
  }
  luaL_getmetatable(L, ERROR_MT);
  lua_setmetatable(L, -2);
  return lua_error(L);
}

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "message");
  return 1;
}

/* Push diagnostics as an array of {pointer=, message=}. */
static void push_diagnostics(lua_State *L, const orc_diagnostics *d) {
  size_t i;
  lua_createtable(L, (int)d->n, 0);
  for (i = 0; i < d->n; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, d->items[i].pointer);
    lua_setfield(L, -2, "pointer");
    lua_pushstring(L, d->items[i].message);
    lua_setfield(L, -2, "message");
    lua_rawseti(L, -2, (int)(i + 1));
  }
}

/* The definition argument (JSON text or a table) as a value (owned). */
static orc_json *definition_arg(lua_State *L, int i) {
  orc_json *def = NULL;
  orc_error err;
  char msg[512];
  if (lua_type(L, i) == LUA_TSTRING) {
    size_t len;
    const char *text = lua_tolstring(L, i, &len);
    orc_json_limits lim = {0, 0, 1}; /* duplicate state names are errors */
    if (orc_json_parse(text, len, &lim, &def, &err) != ORC_OK)
      raise_error(L, "InvalidJSON", err.message, 0);
    return def;
  }
  if (lua_type(L, i) != LUA_TTABLE) orcL_typeerror(L, i, "JSON text or table");
  def = orcL_tojson(L, i, 0, msg, sizeof msg);
  if (def == NULL) { /* a table JSON cannot hold, as for bad text */
    char full[600];
    snprintf(full, sizeof full, "definition: %s", msg);
    raise_error(L, "InvalidJSON", full, 0);
  }
  return def;
}

/* }====== */

/* {====== task dispatch */

/* Find the handler for resource: exact, then the longest "prefix*" key,
** then the default handler. Pushes it, or nothing; returns 1 for a plain
** handler, 2 for the default one (called with the resource first), 0. */
static int find_handler(lua_State *L, lengine *b, const char *resource) {
  size_t best = 0, rlen = strlen(resource);
  const char *best_key = NULL; /* stays alive: it is a key of the table */
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->handlers);
  lua_getfield(L, -1, resource);
  if (!lua_isnil(L, -1)) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    size_t kl;
    const char *k;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) continue;
    k = lua_tolstring(L, -1, &kl);
    if (kl > 0 && k[kl - 1] == '*' && kl - 1 <= rlen &&
        (best_key == NULL || kl - 1 > best) &&
        memcmp(k, resource, kl - 1) == 0) {
      best = kl - 1;
      best_key = k;
    }
  }
  if (best_key) {
    lua_getfield(L, -1, best_key);
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  if (b->default_fn != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->default_fn);
    return 2;
  }
  return 0;
}

static int resume(lua_State *co, lua_State *from, int nargs) {
#if LUA_VERSION_NUM >= 504
  int nres;
  return lua_resume(co, from, nargs, &nres);
#elif LUA_VERSION_NUM >= 502
  return lua_resume(co, from, nargs);
#else
  (void)from;
  return lua_resume(co, nargs);
#endif
}

/* Turn the error value on top of co into (error, cause). */
static void fail_from_lua(lua_State *co, orc_task *T) {
  const char *error = "States.TaskFailed", *cause = NULL;
  char *encoded = NULL;
  if (lua_type(co, -1) == LUA_TTABLE) {
    lua_getfield(co, -1, "Error");
    if (lua_type(co, -1) == LUA_TSTRING) error = lua_tostring(co, -1);
    lua_getfield(co, -2, "Cause");
    if (lua_type(co, -1) == LUA_TSTRING) {
      cause = lua_tostring(co, -1);
    } else if (!lua_isnil(co, -1)) {
      char msg[256];
      orc_json *v = orcL_tojson(co, -1, 0, msg, sizeof msg);
      if (v) {
        encoded = orc_json_print(v, 0, NULL);
        orc_json_unref(v);
      }
      cause = encoded;
    }
    if (lua_type(co, -2) != LUA_TSTRING && lua_isnil(co, -1)) {
      error = "States.TaskFailed";
      cause = "the handler raised a table without Error";
    }
  } else {
    cause = lua_tostring(co, -1);
    if (cause == NULL) cause = "the handler raised a non-string error";
  }
  orc_task_fail(T, error, cause, NULL);
  free(encoded);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* After the handler coroutine co (at stack index ico of L) ran with status:
** complete the task, leave it pending (orchestra.pending, or a
** .waitForTaskToken resource, answered later by token), or park co to be
** resumed on a later step when it yielded. */
static void settle(lua_State *L, lengine *b, lua_State *co, int ico,
                   orc_task *T, int status) {
  if (status == LUA_YIELD) {
    /* the coroutine is resumed outside the engine's call: keep T valid
    ** until it is unparked (unpark releases) */
    orc_task_retain(T);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->parked);
    lua_pushlightuserdata(L, T);
    lua_pushvalue(L, ico);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->pq); /* resumed in turn */
    lua_pushlightuserdata(L, T);
    lua_rawseti(L, -2, ++b->pq_tail);
    lua_pop(L, 1);
  } else if (status == 0) {
    char msg[512];
    orc_json *out;
    if (ends_with(orc_task_resource(T), ".waitForTaskToken")) return;
    if (lua_gettop(co) == 0) lua_pushnil(co);
    if (lua_touserdata(co, -1) == PENDING_UD) return;
    out = orcL_tojson(co, -1, 0, msg, sizeof msg);
    if (out == NULL) {
      lua_pushfstring(L, "the handler's result cannot become JSON: %s", msg);
      orc_task_fail(T, "States.TaskFailed", lua_tostring(L, -1), NULL);
    } else {
      orc_task_succeed(T, out, NULL);
    }
  } else {
    fail_from_lua(co, T);
  }
}

/* [-0, +0, e] Resume parked handlers once each, in the order they yielded,
** at most the step's work bound of them (upvalue 1: the engine): the rest
** go on the next step, so that ten thousand polling handlers cannot stall
** one step. */
static int resume_parked(lua_State *L) {
  lengine *b = (lengine *)lua_touserdata(L, lua_upvalueindex(1));
  int n = b->pq_tail - b->pq_head + 1, k,
      max = b->budget / ORC_TASK_WEIGHT > 0 ? b->budget / ORC_TASK_WEIGHT : 1;
  if (n > max) n = max; /* a resume weighs like a task dispatch */
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->pq);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->parked);
  for (k = 0; k < n; k++) {
    orc_task *T;
    lua_State *co;
    int ico;
    lua_rawgeti(L, -2, b->pq_head);
    lua_pushnil(L);
    lua_rawseti(L, -4, b->pq_head++);
    T = (orc_task *)lua_touserdata(L, -1);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) { /* answered or dropped meanwhile */
      lua_pop(L, 2);
      continue;
    }
    ico = lua_gettop(L);
    co = lua_tothread(L, ico);
    lua_pushvalue(L, -2);
    lua_pushnil(L);
    lua_rawset(L, -5); /* unpark; settle parks it again if needed */
    /* the handler may stop its execution or answer its own token: T stays
    ** valid (retained since it parked) and a late answer is ignored */
    settle(L, b, co, ico, T, resume(co, L, 0));
    orc_task_release(T);
    lua_pop(L, 2);
  }
  if (b->pq_head > b->pq_tail) b->pq_head = 1, b->pq_tail = 0;
  lua_pop(L, 2);
  return 0;
}

#define CTX_CACHE_MAX 256 /* executions whose $$ parts stay converted */

static void release_held(lengine *b) {
  int i;
  for (i = 0; i < b->ncached; i++)
    orc_json_unref(b->held[i]);
  b->ncached = 0;
}

/* [-0, +1, e] v as a Lua table, converted once per value: $$.Execution and
** $$.StateMachine are the same for every task of an execution, and their
** ARNs and timestamps cost more to push than the task's own input. The
** cache is keyed by the value's address and holds a reference to it (in
** b->held, not in a finalised userdata: a thousand finalisers make one long
** GC step), so the address cannot be reused while it is cached. Handlers
** share these tables: the context is read-only. */
static void push_cached(lua_State *L, lengine *b, orc_json *v) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->ctxcache);
  lua_pushlightuserdata(L, v);
  lua_rawget(L, -2);
  if (lua_istable(L, -1)) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  if (b->held == NULL && (b->held = (orc_json **)malloc(
                              CTX_CACHE_MAX * sizeof *b->held)) == NULL) {
    lua_pop(L, 1);
    orcL_pushjson(L, v); /* no cache then */
    return;
  }
  if (b->ncached >= CTX_CACHE_MAX) { /* start over: the old one is garbage */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, LUA_REGISTRYINDEX, b->ctxcache);
    release_held(b);
  }
  orcL_pushjson(L, v);
  lua_pushlightuserdata(L, v);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4); /* cache, table */
  lua_remove(L, -2);
  b->held[b->ncached++] = orc_json_ref(v);
}

/* [-0, +1, e] The context object of T for its handler. */
static void push_context(lua_State *L, lengine *b, orc_task *T) {
  orc_json *ctx = orc_task_context(T);
  size_t i, n = ctx ? orc_json_len(ctx) : 0;
  lua_createtable(L, 0, (int)n + 2);
  for (i = 0; i < n; i++) {
    size_t kl;
    const char *k = orc_json_string_value(orc_json_object_key(ctx, i), &kl);
    orc_json *v = orc_json_object_value(ctx, i);
    lua_pushlstring(L, k, kl);
    if ((kl == 9 && !memcmp(k, "Execution", 9)) ||
        (kl == 12 && !memcmp(k, "StateMachine", 12)))
      push_cached(L, b, v);
    else
      orcL_pushjson(L, v);
    lua_rawset(L, -3);
  }
  orc_json_unref(ctx);
}

/* [-0, +1, e] The C string s of a compiled state (stable address) as a Lua
** string, made once: resources are long ARNs, and a long string is copied
** every time it is pushed. */
static void push_state_str(lua_State *L, lengine *b, const char *s) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->strings);
  lua_pushlightuserdata(L, (void *)(uintptr_t)s);
  lua_rawget(L, -2);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, s);
    lua_pushlightuserdata(L, (void *)(uintptr_t)s);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_remove(L, -2);
}

/* find_handler, remembered per resource address until the handlers
** change. */
static int cached_handler(lua_State *L, lengine *b, const char *resource) {
  int kind;
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->hcache);
  lua_pushlightuserdata(L, (void *)(uintptr_t)resource);
  lua_rawget(L, -2);
  if (lua_isfunction(L, -1)) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 2);
  kind = find_handler(L, b, resource);
  if (kind == 1) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->hcache);
    lua_pushlightuserdata(L, (void *)(uintptr_t)resource);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return kind;
}

/* [-0, +1, e] A coroutine for a handler: a finished one from the pool (a
** thread whose body returned can run a new function), else a new one. */
static lua_State *take_thread(lua_State *L, lengine *b) {
  if (b->npool > 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->pool);
    lua_rawgeti(L, -1, b->npool);
    lua_pushnil(L);
    lua_rawseti(L, -3, b->npool--);
    lua_replace(L, -2);
    return lua_tothread(L, -1);
  }
  return lua_newthread(L);
}

#define POOL_MAX 64

/* The handler coroutine at index i of L returned: keep it for the next. */
static void give_thread(lua_State *L, lengine *b, int i) {
  lua_State *co = lua_tothread(L, i);
  if (b->npool >= POOL_MAX || co == NULL) return;
  lua_settop(co, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->pool);
  lua_pushvalue(L, i);
  lua_rawseti(L, -2, ++b->npool);
  lua_pop(L, 1);
}

/* [-0, +0, e] Run the handler of the task (light userdata at 1). Called
** through lua_pcall from the core's callback; upvalue 1 is the engine. */
static int dispatch_body(lua_State *L) {
  orc_task *T = (orc_task *)lua_touserdata(L, 1);
  lengine *b = (lengine *)lua_touserdata(L, lua_upvalueindex(1));
  const char *resource = orc_task_resource(T);
  lua_State *co;
  int kind, nargs, status;
  kind = cached_handler(L, b, resource);
  if (kind == 0) {
    lua_pushfstring(L,
                    "no handler is registered for resource '%s' (see "
                    "engine:handler)",
                    resource);
    orc_task_fail(T, "States.TaskFailed", lua_tostring(L, -1), NULL);
    return 0;
  }
  co = take_thread(L, b);
  lua_insert(L, -2);
  lua_xmove(L, co, 1); /* the handler */
  nargs = 2;
  if (kind == 2) {
    push_state_str(co, b, resource);
    nargs = 3;
  }
  orcL_pushjson(co, orc_task_input(T));
  push_context(co, b, T);
  push_state_str(co, b, resource);
  lua_setfield(co, -2, "resource");
  push_state_str(co, b, orc_task_state_name(T));
  lua_setfield(co, -2, "state");
  status = resume(co, L, nargs);
  settle(L, b, co, lua_gettop(L), T, status);
  if (status == 0) give_thread(L, b, lua_gettop(L));
  return 0;
}

/* Forget T's parked handler, if it has one, and the hold parking took. */
static void unpark(lua_State *L, lengine *b, orc_task *T) {
  int parked;
  if (b->parked == LUA_NOREF) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->parked);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushlightuserdata(L, T);
  lua_rawget(L, -2);
  parked = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (parked) {
    lua_pushlightuserdata(L, T);
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
  if (parked) orc_task_release(T);
}

/* The engine abandons a task (timeout, stop): forget its parked handler. */
static void task_drop_cb(void *ud, orc_task *T) {
  lengine *b = (lengine *)ud;
  lua_State *L = b->L ? b->L : b->home;
  if (L == NULL || b->parked == LUA_NOREF) return;
  unpark(L, b, T);
}

/* The core's task callback: runs only inside engine:step(). */
static int task_cb(void *ud, orc_task *T) {
  lengine *b = (lengine *)ud;
  lua_State *L = b->L;
  if (L == NULL) return ORC_EMISUSE;
  lua_pushvalue(L, b->body);
  lua_pushlightuserdata(L, T);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    /* only reached when the body itself failed (out of memory, a handler
    ** field access that raised): the task fails, the engine goes on */
    const char *msg = lua_tostring(L, -1);
    orc_task_fail(T, "States.TaskFailed",
                  msg ? msg : "the task dispatcher failed", NULL);
    lua_pop(L, 1);
  }
  return ORC_OK;
}

/* One orc_engine_step with the dispatch body in place. */
static int do_step(lua_State *L, lengine *b) {
  orc_error err;
  int n;
  if (b->pq_head <= b->pq_tail) { /* handlers waiting on their own work */
    lua_rawgeti(L, LUA_REGISTRYINDEX, b->resume_ref);
    b->L = L;
    if (lua_pcall(L, 0, 0, 0) != 0) {
      b->L = NULL;
      return lua_error(L);
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->body_ref);
  b->body = lua_gettop(L);
  b->L = L;
  n = orc_engine_step(b->E, &err);
  b->L = NULL;
  lua_pop(L, 1);
  if (n == ORC_ENOMEM) { /* the engine is still usable */
    lua_pushfstring(L, "engine:step: %s", err.message);
    raise_error(L, "OutOfMemory", lua_tostring(L, -1), 0);
  }
  if (n < 0) luaL_error(L, "engine:step: %s", err.message);
  return n;
}

/* Step until X (or, when NULL, everything) stops running or nothing can
** happen without an outside event. */
static int has_parked(lua_State *L, lengine *b) {
  int any;
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->parked);
  lua_pushnil(L);
  any = lua_next(L, -2);
  lua_pop(L, any ? 3 : 1);
  return any;
}

static void run_until(lua_State *L, lengine *b, orc_execution *X) {
  for (;;) {
    int n = do_step(L, b);
    int64_t d;
    if (X && orc_execution_status(X) != ORC_STATUS_RUNNING) return;
    if (n > 0) continue;
    if (has_parked(L, b)) { /* handlers waiting on their own work */
      if (b->clock == ORC_CLOCK_REAL) orc_engine_wait(b->E, 1);
      continue;
    }
    d = orc_engine_next_deadline(b->E);
    if (d < 0) return;
    if (d > 0 && b->clock == ORC_CLOCK_MANUAL) return; /* needs advance */
    if (d > 0) /* model calls in flight sleep under the virtual clock too */
      orc_engine_wait(b->E, d > 100 ? 100 : d);
  }
}

/* }====== */

/* {====== engine */

static int64_t opt_field_int(lua_State *L, int t, const char *name, int64_t def,
                             int64_t lo) {
  int64_t v = def;
  lua_getfield(L, t, name);
  if (!lua_isnil(L, -1)) {
    lua_Number n = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || n < (lua_Number)lo)
      orcL_error(L, "option '%s' must be a number >= %d", name, (int)lo);
    v = (int64_t)n;
  }
  lua_pop(L, 1);
  return v;
}

/* orchestra.engine{clock=, start_time=, max_payload_bytes=,
** max_history_events=, history=, seed=, region=, account=,
** max_transitions_per_step=, map_concurrency=, data_dir=, resolver=,
** max_memory=} [-0, +1, e]. The engine allocates with the Lua state's
** allocator; max_memory caps what it holds (a start past it raises
** {code = "OutOfMemory"}). */
/* The engine's resolver: resolver(bucket, key, "read" | "write") returns
** the local path of an S3 object a distributed Map reads or writes. */
static char *resolve_cb(void *ud, const char *bucket, const char *key,
                        int write, orc_error *err) {
  lengine *b = (lengine *)ud;
  lua_State *L = b->L ? b->L : b->home;
  char *path = NULL;
  if (L == NULL) {
    snprintf(err->message, sizeof err->message, "the engine is closed");
    return NULL;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->resolver);
  lua_pushstring(L, bucket);
  lua_pushstring(L, key);
  lua_pushstring(L, write ? "write" : "read");
  if (lua_pcall(L, 3, 1, 0) != 0) {
    const char *m = lua_tostring(L, -1);
    snprintf(err->message, sizeof err->message, "the resolver failed: %s",
             m ? m : "(an error that is not a string)");
  } else if (lua_type(L, -1) != LUA_TSTRING) {
    snprintf(err->message, sizeof err->message,
             "the resolver returned %s for s3://%s/%s instead of a path",
             luaL_typename(L, -1), bucket, key);
  } else {
    path = strdup(lua_tostring(L, -1));
    if (path == NULL)
      snprintf(err->message, sizeof err->message, "out of memory");
  }
  lua_pop(L, 1);
  return path;
}

/* The choice_hook option: fn(state, input, nexts) returns the name of the
** state to go to (one of nexts), or nil to evaluate the rules. Runs inside
** engine:step(); its errors fail the execution (States.Runtime). */
static int choice_cb(void *ud, orc_execution *X, const char *state,
                     orc_json *input, const char *const *nexts, size_t n,
                     int *pick, orc_error *err) {
  lengine *b = (lengine *)ud;
  lua_State *L = b->L ? b->L : b->home;
  size_t i;
  int rc = ORC_OK;
  (void)X;
  if (L == NULL) {
    snprintf(err->message, sizeof err->message, "the engine is closed");
    return ORC_EMISUSE;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->choice_ref);
  lua_pushstring(L, state);
  orcL_pushjson(L, input);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, nexts[i]);
    lua_rawseti(L, -2, (int)i + 1);
  }
  if (lua_pcall(L, 3, 1, 0) != 0) {
    const char *m = lua_tostring(L, -1);
    snprintf(err->message, sizeof err->message, "%s",
             m ? m : "(an error that is not a string)");
    rc = ORC_EINVAL;
  } else if (!lua_isnil(L, -1)) {
    const char *name =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    for (i = 0; name && i < n; i++)
      if (!strcmp(name, nexts[i])) *pick = (int)i;
    if (*pick < 0) {
      size_t len = 0;
      snprintf(err->message, sizeof err->message,
               "it returned %s%s%s, not one of the Choice state '%s''s "
               "branches (",
               name ? "'" : "", name ? name : luaL_typename(L, -1),
               name ? "'" : "", state);
      for (i = 0; i < n; i++) {
        len = strlen(err->message);
        snprintf(err->message + len, sizeof err->message - len, "%s%s",
                 i ? ", " : "", nexts[i]);
      }
      len = strlen(err->message);
      snprintf(err->message + len, sizeof err->message - len, ")");
      rc = ORC_EINVAL;
    }
  }
  lua_pop(L, 1);
  return rc;
}

/* The engine's allocator under max_memory: the Lua state's, refusing what
** would take the engine past the cap (the core then reports ENOMEM). The
** box's memory is stable and outlives the engine (freed in its __gc). */
static void *capped_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  lengine *b = (lengine *)ud;
  void *q;
  if (p == NULL) osize = 0;
  if (nsize > osize && b->nheld - osize + nsize > b->max_memory) return NULL;
  q = b->allocf(b->alloc_ud, p, osize, nsize);
  if (q != NULL || nsize == 0) b->nheld = b->nheld - osize + nsize;
  return q;
}

/* The engine option bedrock = {region=, endpoint_url=, access_key_id=,
** secret_access_key=, session_token=, timeout_seconds=}: where
** bedrock:invokeModel tasks go (unset fields: the AWS_* environment).
** [-0, +0, e] */
static void bedrock_option(lua_State *L, orc_engine *E, int t) {
  static const char *const known[] = {"region",
                                      "endpoint_url",
                                      "access_key_id",
                                      "secret_access_key",
                                      "session_token",
                                      "timeout_seconds",
                                      NULL};
  orc_bedrock_config bc;
  orc_error err;
  if (lua_type(L, t) != LUA_TTABLE)
    orcL_error(L, "option 'bedrock' must be a table, not %s",
               luaL_typename(L, t));
  orcL_checkoptions(L, t, known);
  memset(&bc, 0, sizeof bc);
  bc.region = orcL_optfield_string(L, t, "region");
  bc.endpoint_url = orcL_optfield_string(L, t, "endpoint_url");
  bc.access_key_id = orcL_optfield_string(L, t, "access_key_id");
  bc.secret_access_key = orcL_optfield_string(L, t, "secret_access_key");
  bc.session_token = orcL_optfield_string(L, t, "session_token");
  lua_getfield(L, t, "timeout_seconds");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) <= 0)
      orcL_error(L, "option 'bedrock.timeout_seconds' must be a number > 0");
    bc.timeout_ms = (int64_t)(lua_tonumber(L, -1) * 1000);
  }
  lua_pop(L, 1);
  if (orc_engine_set_bedrock(E, &bc, &err) != ORC_OK)
    orcL_error(L, "%s", err.message);
}

static int engine_new(lua_State *L) {
  orc_engine_config cfg;
  orc_error err;
  lengine *b;
  int resolver = 0;
  size_t max_memory = 0;
  orc_engine_config_init(&cfg);
  if (!lua_isnoneornil(L, 1)) {
    static const char *const known[] = {"clock",
                                        "start_time",
                                        "max_payload_bytes",
                                        "max_history_events",
                                        "max_transitions_per_step",
                                        "seed",
                                        "map_concurrency",
                                        "history",
                                        "region",
                                        "account",
                                        "data_dir",
                                        "resolver",
                                        "max_memory",
                                        "meter",
                                        "bedrock",
                                        "budget_usd",
                                        "catalog",
                                        "choice_hook",
                                        "models", /* lua/orchestra.lua */
                                        NULL};
    const char *c;
    orcL_checktype(L, 1, LUA_TTABLE);
    orcL_checkoptions(L, 1, known);
    c = orcL_optfield_string(L, 1, "clock");
    if (c != NULL) {
      if (!strcmp(c, "virtual"))
        cfg.clock = ORC_CLOCK_VIRTUAL;
      else if (!strcmp(c, "manual"))
        cfg.clock = ORC_CLOCK_MANUAL;
      else if (strcmp(c, "real"))
        return orcL_error(L,
                          "option 'clock' must be \"real\", \"virtual\" "
                          "or \"manual\", not \"%s\"",
                          c);
    }
    cfg.start_time_ms = opt_field_int(L, 1, "start_time", 0, 0);
    cfg.max_payload_bytes =
        (size_t)opt_field_int(L, 1, "max_payload_bytes", 262144, 0);
    cfg.max_history_events =
        (size_t)opt_field_int(L, 1, "max_history_events", 25000, 0);
    cfg.max_transitions_per_step =
        (int)opt_field_int(L, 1, "max_transitions_per_step", 300, 1);
    cfg.random_seed = (uint64_t)opt_field_int(L, 1, "seed", 0, 0);
    lua_getfield(L, 1, "meter");
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
      return orcL_error(L, "option 'meter' must be a boolean");
    cfg.meter = lua_toboolean(L, -1);
    lua_pop(L, 1);
    cfg.budget_usd = opt_budget(L, 1, "orchestra.engine");
    lua_getfield(L, 1, "catalog");
    if (!lua_isnil(L, -1)) orcL_checkcatalog(L, lua_gettop(L));
    lua_pop(L, 1);
    lua_getfield(L, 1, "choice_hook");
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
      return orcL_error(L, "option 'choice_hook' must be a function(state, "
                           "input, nexts) returning a state name or nil");
    lua_pop(L, 1);
    cfg.map_concurrency =
        (int)opt_field_int(L, 1, "map_concurrency", cfg.map_concurrency, 1);
    max_memory = (size_t)opt_field_int(L, 1, "max_memory", 0, 1);
    c = orcL_optfield_string(L, 1, "history");
    if (c != NULL) {
      const char *h = c;
      if (!strcmp(h, "full"))
        cfg.history = ORC_HISTORY_FULL;
      else if (!strcmp(h, "none"))
        cfg.history = ORC_HISTORY_NONE;
      else if (!strncmp(h, "last:", 5) && atoi(h + 5) > 0) {
        cfg.history = ORC_HISTORY_LAST;
        cfg.history_keep = (size_t)atoi(h + 5);
      } else
        return orcL_error(L,
                          "option 'history' must be \"full\", \"none\" "
                          "or \"last:N\", not \"%s\"",
                          h);
    }
    cfg.region = orcL_optfield_string(L, 1, "region");
    cfg.account = orcL_optfield_string(L, 1, "account");
    cfg.data_dir = orcL_optfield_string(L, 1, "data_dir");
    lua_getfield(L, 1, "resolver");
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
      return orcL_error(L, "option 'resolver' must be a function(bucket, "
                           "key, mode) returning a path");
    resolver = lua_gettop(L);
  }
  b = (lengine *)lua_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b);
  b->handlers = LUA_NOREF;
  b->default_fn = LUA_NOREF;
  luaL_getmetatable(L, ENGINE_MT);
  lua_setmetatable(L, -2);
  cfg.task = task_cb;
  cfg.task_drop = task_drop_cb;
  cfg.task_ud = b;
  b->parked = LUA_NOREF;
  b->resolver = LUA_NOREF;
  b->ctxcache = b->pool = b->strings = b->hcache = LUA_NOREF;
  b->pq = b->body_ref = b->resume_ref = b->xcache = LUA_NOREF;
  b->pq_head = 1;
  b->pq_tail = 0;
  b->catalog_ref = LUA_NOREF;
  b->choice_ref = LUA_NOREF;
  b->budget = cfg.max_transitions_per_step;
  b->clock = cfg.clock;
  /* the engine's memory is the Lua state's (STYLE.md: lua_getallocf) */
  b->allocf = lua_getallocf(L, &b->alloc_ud);
  b->max_memory = max_memory;
  if (max_memory) {
    cfg.alloc = capped_alloc;
    cfg.alloc_ud = b;
  } else {
    cfg.alloc = b->allocf;
    cfg.alloc_ud = b->alloc_ud;
  }
  if (resolver && lua_isfunction(L, resolver)) {
    lua_pushvalue(L, resolver);
    b->resolver = luaL_ref(L, LUA_REGISTRYINDEX);
    cfg.resolve = resolve_cb;
    cfg.resolve_ud = b;
  }
  b->E = orc_engine_new(&cfg, &err); /* copies region/account */
  if (b->E == NULL) {
    if (err.code == ORC_ENOMEM)
      return raise_error(L, "OutOfMemory", err.message, 0);
    return orcL_error(L, "%s", err.message);
  }
  if (!lua_isnoneornil(L, 1)) {
    lua_getfield(L, 1, "bedrock");
    if (!lua_isnil(L, -1)) bedrock_option(L, b->E, lua_gettop(L));
    lua_pop(L, 1);
    lua_getfield(L, 1, "catalog");
    if (!lua_isnil(L, -1)) {
      orc_engine_set_catalog(b->E, orcL_checkcatalog(L, lua_gettop(L)));
      b->catalog_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps it alive */
    } else {
      lua_pop(L, 1);
    }
    if (cfg.budget_usd > 0) ensure_catalog(L, b);
    lua_getfield(L, 1, "choice_hook");
    if (lua_isfunction(L, -1)) {
      b->choice_ref = luaL_ref(L, LUA_REGISTRYINDEX);
      orc_engine_set_choice_hook(b->E, choice_cb, b);
    } else {
      lua_pop(L, 1);
    }
  }
  {
    int *tables[] = {&b->handlers, &b->parked, &b->ctxcache, &b->pool,
                     &b->strings,  &b->hcache, &b->pq,       &b->xcache};
    size_t i;
    for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
      lua_newtable(L);
      *tables[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->xcache);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  lua_pushlightuserdata(L, b);
  lua_pushcclosure(L, dispatch_body, 1);
  b->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, b);
  lua_pushcclosure(L, resume_parked, 1);
  b->resume_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushthread(L);
  b->home_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  b->home = L;
  return 1;
}

static int engine_close(lua_State *L) {
  lengine *b = (lengine *)orcL_checkudata(L, 1, ENGINE_MT);
  if (b->L != NULL)
    return luaL_error(L, "cannot close an engine from inside its step");
  orc_engine_free(b->E); /* drops tasks: task_drop_cb still works */
  b->E = NULL;
  {
    int *refs[] = {&b->handlers, &b->default_fn,  &b->parked,    &b->home_ref,
                   &b->resolver, &b->ctxcache,    &b->pool,      &b->strings,
                   &b->hcache,   &b->pq,          &b->body_ref,  &b->resume_ref,
                   &b->xcache,   &b->catalog_ref, &b->choice_ref};
    size_t i;
    for (i = 0; i < sizeof refs / sizeof refs[0]; i++) {
      luaL_unref(L, LUA_REGISTRYINDEX, *refs[i]);
      *refs[i] = LUA_NOREF;
    }
  }
  release_held(b);
  free(b->held);
  b->held = NULL;
  b->npool = 0;
  b->home = NULL;
  return 0;
}

/* engine:handler(resource, fn): fn(input, context) answers Tasks whose
** Resource is resource ("prefix*" matches by prefix). fn = nil removes. */
static int engine_handler(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orcL_checkstring(L, 2);
  if (!lua_isnil(L, 3)) orcL_checktype(L, 3, LUA_TFUNCTION);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->handlers);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  lua_newtable(L); /* the resolved handlers are stale */
  lua_rawseti(L, LUA_REGISTRYINDEX, b->hcache);
  lua_settop(L, 1);
  return 1;
}

/* engine:default_handler(fn): fn(resource, input, context) answers Tasks no
** other handler matches. */
static int engine_default_handler(lua_State *L) {
  lengine *b = check_engine(L, 1);
  if (!lua_isnil(L, 2)) orcL_checktype(L, 2, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, b->default_fn);
  b->default_fn = LUA_NOREF;
  if (!lua_isnil(L, 2)) {
    lua_pushvalue(L, 2);
    b->default_fn = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_settop(L, 1);
  return 1;
}

/* engine:load(definition [, {name=}]) -> machine. Raises {code=
** "InvalidDefinition"|"Unsupported"|"InvalidJSON"|"InvalidName"|
** "StateMachineAlreadyExists", message=, errors=}. */
static int engine_load(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orc_json *def;
  orc_machine *M = NULL;
  orc_diagnostics diag = {0, NULL};
  orc_error err;
  const char *name = NULL;
  lmachine *m;
  int rc;
  lua_settop(L, 3); /* the arguments keep their places below what we push */
  if (!lua_isnoneornil(L, 3)) {
    static const char *const known[] = {"name", NULL};
    orcL_checktype(L, 3, LUA_TTABLE);
    orcL_checkoptions(L, 3, known);
    name = orcL_optfield_string(L, 3, "name");
  }
  m = (lmachine *)lua_newuserdata(L, sizeof *m);
  m->M = NULL;
  m->eb = b;
  m->engine_ref = LUA_NOREF;
  luaL_getmetatable(L, MACHINE_MT);
  lua_setmetatable(L, -2);
  def = definition_arg(L, 2);
  rc = orc_machine_load_json(b->E, def, name, &M, &diag, &err);
  orc_json_unref(def);
  if (rc != ORC_OK) {
    push_diagnostics(L, &diag);
    orc_diagnostics_free(&diag);
    return raise_error(L,
                       rc == ORC_EUNSUPPORT ? "Unsupported"
                       : rc == ORC_ENOMEM   ? "OutOfMemory"
                       : !strncmp(err.message, "InvalidName:", 12)
                           ? "InvalidName"
                       : !strncmp(err.message, "StateMachineAlreadyExists:", 26)
                           ? "StateMachineAlreadyExists"
                           : "InvalidDefinition",
                       err.message, 1);
  }
  m->M = M;
  lua_pushvalue(L, 1);
  m->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 1;
}

/* The pending task of a token, or a raised {code = "TaskDoesNotExist" |
** "TaskTimedOut"} as Step Functions answers SendTask*. */
static orc_task *task_by_token(lua_State *L, lengine *b, int i) {
  const char *token = orcL_checkstring(L, i);
  orc_task *T = orc_engine_find_task(b->E, token);
  if (T == NULL) {
    if (orc_engine_task_expired(b->E, token))
      raise_error(L, "TaskTimedOut",
                  "TaskTimedOut: the task of this token timed out", 0);
    raise_error(L, "TaskDoesNotExist",
                "TaskDoesNotExist: no pending task has this token (unknown, "
                "already answered, or its execution ended)",
                0);
  }
  return T;
}

/* engine:task_success(token, output): answer a pending task. */
static int engine_task_success(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orc_task *T = task_by_token(L, b, 2);
  char msg[512];
  orc_json *out = orcL_tojson(L, 3, 0, msg, sizeof msg);
  if (out == NULL) return orcL_error(L, "output %s", msg);
  unpark(L, b, T);
  orc_task_succeed(T, out, NULL);
  lua_settop(L, 1);
  return 1;
}

/* engine:task_failure(token [, error [, cause]]): fail a pending task. */
static int engine_task_failure(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orc_task *T = task_by_token(L, b, 2);
  const char *error = orcL_optstring(L, 3, NULL);
  const char *cause = orcL_optstring(L, 4, NULL);
  unpark(L, b, T);
  orc_task_fail(T, error, cause, NULL);
  lua_settop(L, 1);
  return 1;
}

/* engine:task_heartbeat(token): the work on a pending task goes on. */
static int engine_task_heartbeat(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orc_task *T = task_by_token(L, b, 2);
  orc_task_heartbeat(T, NULL);
  lua_settop(L, 1);
  return 1;
}

/* engine:step() -> number of runnable items left */
static int engine_step(lua_State *L) {
  lengine *b = check_engine(L, 1);
  if (b->L != NULL)
    return luaL_error(L, "engine:step called from inside a task handler");
  lua_pushinteger(L, do_step(L, b));
  return 1;
}

/* engine:run(): step until nothing can happen without an outside event */
static int engine_run(lua_State *L) {
  lengine *b = check_engine(L, 1);
  if (b->L != NULL)
    return luaL_error(L, "engine:run called from inside a task handler");
  run_until(L, b, NULL);
  lua_pushinteger(L, (lua_Integer)orc_engine_nrunning(b->E));
  return 1;
}

/* engine:next_deadline() -> milliseconds until the next timer, or nil */
static int engine_next_deadline(lua_State *L) {
  lengine *b = check_engine(L, 1);
  int64_t d = orc_engine_next_deadline(b->E);
  if (d < 0)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)d);
  return 1;
}

/* engine:advance(ms): under the manual clock, move time forward */
static int engine_advance(lua_State *L) {
  lengine *b = check_engine(L, 1);
  lua_Number ms = luaL_checknumber(L, 2);
  orc_error err;
  if (orc_engine_advance(b->E, (int64_t)ms, &err) != ORC_OK)
    return luaL_error(L, "engine:advance: %s", err.message);
  lua_settop(L, 1);
  return 1;
}

/* engine:stats() -> sizes of the engine's internal tables */
static int engine_stats(lua_State *L) {
  lengine *b = check_engine(L, 1);
  orc_engine_stats_t st;
  orc_engine_stats(b->E, &st);
  lua_createtable(L, 0, 8);
#define STAT(name)                                                             \
  lua_pushinteger(L, (lua_Integer)st.name);                                    \
  lua_setfield(L, -2, #name)
  STAT(task_slots);
  STAT(pending_tasks);
  STAT(name_slots);
  STAT(executions);
  STAT(expired_tokens);
  STAT(expired_slots);
  STAT(timers);
  STAT(timer_slots);
#undef STAT
  return 1;
}

/* engine:memory() -> bytes the engine holds through its allocator (the Lua
** state's), payload values excepted (engine.h says what is counted) */
static int engine_memory(lua_State *L) {
  lengine *b = check_engine(L, 1);
  lua_pushinteger(L, (lua_Integer)orc_engine_memory(b->E));
  return 1;
}

/* engine:now() -> engine time in Unix milliseconds */
/* engine:running() -> the number of executions still running */
static int engine_running(lua_State *L) {
  lengine *b = check_engine(L, 1);
  lua_pushinteger(L, (lua_Integer)orc_engine_nrunning(b->E));
  return 1;
}

static int engine_now(lua_State *L) {
  lengine *b = check_engine(L, 1);
  lua_pushinteger(L, (lua_Integer)orc_engine_now(b->E));
  return 1;
}

/* }====== */

/* {====== machines */

static int machine_gc(lua_State *L) {
  lmachine *m = (lmachine *)luaL_checkudata(L, 1, MACHINE_MT);
  luaL_unref(L, LUA_REGISTRYINDEX, m->engine_ref);
  m->engine_ref = LUA_NOREF;
  m->M = NULL; /* the engine owns the machine */
  return 0;
}

static int start(lua_State *L, int json_text);

/* machine:start([input [, {name=}]]) -> execution */
static int machine_start(lua_State *L) {
  return start(L, 0);
}

/* machine:start_json(text [, {name=}]) -> execution: the input as JSON
** text, so key order and number forms reach the execution unchanged. */
static int machine_start_json(lua_State *L) {
  return start(L, 1);
}

static int start(lua_State *L, int json_text) {
  lmachine *m = check_machine(L, 1);
  orc_json *input = NULL;
  orc_execution *X = NULL;
  orc_error err;
  const char *name = NULL;
  lexecution *x;
  char msg[512];
  int rc;
  double budget = -1; /* -1: the engine's */
  lua_settop(L, 3);   /* the arguments keep their places below what we push */
  if (!lua_isnoneornil(L, 3)) {
    static const char *const known[] = {"name", "budget_usd", NULL};
    orcL_checktype(L, 3, LUA_TTABLE);
    orcL_checkoptions(L, 3, known);
    name = orcL_optfield_string(L, 3, "name");
    lua_getfield(L, 3, "budget_usd");
    if (!lua_isnil(L, -1)) {
      budget = opt_budget(L, 3, "machine:start");
      if (budget > 0) ensure_catalog(L, m->eb);
    }
    lua_pop(L, 1);
  }
  x = (lexecution *)lua_newuserdata(L, sizeof *x);
  x->X = NULL;
  x->eb = m->eb;
  x->engine_ref = LUA_NOREF;
  x->fields = LUA_NOREF;
  x->owned = 1;
  luaL_getmetatable(L, EXECUTION_MT);
  lua_setmetatable(L, -2);
  if (json_text) {
    size_t len;
    const char *text = orcL_checklstring(L, 2, &len);
    if (orc_json_parse(text, len, NULL, &input, &err) != ORC_OK)
      return raise_error(L, "InvalidJSON", err.message, 0);
  } else if (!lua_isnoneornil(L, 2)) {
    input = orcL_tojson(L, 2, 0, msg, sizeof msg);
    if (input == NULL) return orcL_error(L, "input %s", msg);
  }
  rc = orc_execution_start(m->M, input, name, &X, &err);
  orc_json_unref(input);
  if (rc != ORC_OK)
    return raise_error(L,
                       rc == ORC_ENOMEM ? "OutOfMemory"
                       : strstr(err.message, "ExecutionAlreadyExists")
                           ? "ExecutionAlreadyExists"
                       : strstr(err.message, "DataLimitExceeded")
                           ? "States.DataLimitExceeded"
                           : "InvalidArgument",
                       err.message, 0);
  x->X = X;
  if (budget >= 0 && orc_execution_set_budget(X, budget, &err) != ORC_OK) {
    orc_execution_close(X); /* nothing ran yet */
    x->X = NULL;
    return raise_error(
        L, err.code == ORC_ENOMEM ? "OutOfMemory" : "InvalidArgument",
        err.message, 0);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, m->engine_ref);
  x->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, m->eb->xcache);
  lua_pushlightuserdata(L, X);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

static int machine_index(lua_State *L) {
  lmachine *m;
  const char *k = luaL_checkstring(L, 2);
  luaL_getmetatable(L, MACHINE_MT);
  lua_getfield(L, -1, "methods");
  lua_getfield(L, -1, k);
  if (!lua_isnil(L, -1)) return 1; /* a method checks its machine itself */
  lua_pop(L, 3);
  m = check_machine(L, 1);
  if (!strcmp(k, "name"))
    lua_pushstring(L, orc_machine_name(m->M));
  else if (!strcmp(k, "arn"))
    lua_pushstring(L, orc_machine_arn(m->M));
  else if (!strcmp(k, "definition"))
    orcL_pushjson(L, orc_machine_definition(m->M));
  else
    lua_pushnil(L);
  return 1;
}

/* }====== */

/* {====== executions */

/* Whether the engine's cache maps x's execution to another userdata. */
static int has_other_userdata(lua_State *L, lexecution *x) {
  int other;
  lua_rawgeti(L, LUA_REGISTRYINDEX, x->eb->xcache);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushlightuserdata(L, x->X);
  lua_rawget(L, -2);
  other = lua_touserdata(L, -1) != NULL && lua_touserdata(L, -1) != (void *)x;
  lua_pop(L, 2);
  return other;
}

static int execution_gc(lua_State *L) {
  lexecution *x = (lexecution *)luaL_checkudata(L, 1, EXECUTION_MT);
  /* A running execution goes on (the engine owns it); a finished one is
  ** released, unless engine:executions() has made it another userdata
  ** since this one became garbage (the weak cache forgot this one). */
  if (x->X && x->eb->E && x->owned &&
      orc_execution_status(x->X) != ORC_STATUS_RUNNING &&
      !has_other_userdata(L, x))
    orc_execution_close(x->X);
  x->X = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, x->engine_ref);
  x->engine_ref = LUA_NOREF;
  luaL_unref(L, LUA_REGISTRYINDEX, x->fields);
  x->fields = LUA_NOREF;
  return 0;
}

static void set_str_field(lua_State *L, const char *k, const char *v);

/* The fields that stay readable after close(), as they are now (a
** running execution is aborted by close). [-0, +1, m] */
static void push_plain_fields(lua_State *L, orc_execution *X) {
  int status = orc_execution_status(X);
  lua_createtable(L, 0, 7);
  set_str_field(L, "status",
                orc_status_text(status == ORC_STATUS_RUNNING
                                    ? ORC_STATUS_ABORTED
                                    : status));
  set_str_field(L, "name", orc_execution_name(X));
  set_str_field(L, "arn", orc_execution_arn(X));
  set_str_field(L, "error", orc_execution_error(X));
  set_str_field(L, "cause", orc_execution_cause(X));
  set_str_field(L, "parent_arn", orc_execution_parent_arn(X));
  lua_pushinteger(L, (lua_Integer)orc_execution_transitions(X));
  lua_setfield(L, -2, "transitions");
}

/* execution:close(): stop it if running and release it; its plain fields
** (status, name, arn, error, cause, parent_arn, transitions) stay
** readable */
static int execution_close(lua_State *L) {
  lexecution *x = (lexecution *)orcL_checkudata(L, 1, EXECUTION_MT);
  if (x->X && x->eb->E) {
    /* inside a step (a handler closing its own execution) the core frees
    ** it when the step ends */
    push_plain_fields(L, x->X);
    luaL_unref(L, LUA_REGISTRYINDEX, x->fields);
    x->fields = luaL_ref(L, LUA_REGISTRYINDEX);
    orc_execution_close(x->X);
  }
  x->X = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, x->engine_ref);
  x->engine_ref = LUA_NOREF;
  return 0;
}

/* [-0, +1, m] Why a RUNNING execution cannot move on without the host. */
static void push_why_waiting(lua_State *L, lengine *b, orc_execution *X) {
  orc_task *tasks[1];
  size_t n = orc_execution_pending_tasks(X, tasks, 1);
  if (orc_execution_agent(X) && orc_agent_pending_tools(X, tasks, 1) > 0) {
    lua_pushfstring(L,
                    "waiting for tool results (return of control): tool "
                    "'%s' has no handler; answer the calls of "
                    "ex:pending_tools() with ex:resume{[id] = result}",
                    orc_task_state_name(tasks[0]));
    return;
  }
  if (n > 0 && ends_with(orc_task_resource(tasks[0]), ".waitForTaskToken")) {
    lua_pushfstring(L,
                    "waiting for a task token: state '%s' sent it (%s) and "
                    "waits for engine:task_success/task_failure with it",
                    orc_task_state_name(tasks[0]), orc_task_resource(tasks[0]));
  } else if (n > 0) {
    lua_pushfstring(L,
                    "waiting for a task answer: the handler of state '%s' "
                    "(%s) left it pending; answer it with "
                    "engine:task_success/task_failure",
                    orc_task_state_name(tasks[0]), orc_task_resource(tasks[0]));
  } else if (b->clock == ORC_CLOCK_MANUAL &&
             orc_engine_next_deadline(b->E) > 0) {
    lua_pushliteral(L, "waiting for time: the manual clock moves only by "
                       "engine:advance");
  } else {
    lua_pushliteral(L, "waiting for another execution or an outside event");
  }
}

/* execution:wait() -> status [, why]: run the engine until this execution
** ends, or nothing can happen without an outside event (then "RUNNING" and
** a sentence saying what it waits for). */
static int execution_wait(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  if (x->eb->L != NULL)
    return luaL_error(L, "execution:wait called from inside a task handler");
  run_until(L, x->eb, x->X);
  lua_pushstring(L, orc_status_text(orc_execution_status(x->X)));
  if (orc_execution_status(x->X) != ORC_STATUS_RUNNING) return 1;
  push_why_waiting(L, x->eb, x->X);
  return 2;
}

/* execution:stop([error [, cause]]) */
static int execution_stop(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  orc_error err;
  const char *error = orcL_optstring(L, 2, NULL);
  const char *cause = orcL_optstring(L, 3, NULL);
  if (orc_execution_stop(x->X, error, cause, &err) != ORC_OK)
    return raise_error(L, "ExecutionNotRunning", err.message, 0);
  lua_settop(L, 1);
  return 1;
}

static int push_printed(lua_State *L, orc_json *v, int flags) {
  size_t len;
  char *text = orc_json_print(v, flags, &len);
  if (text == NULL) return luaL_error(L, "out of memory");
  lua_pushlstring(L, text, len);
  orc_free(text);
  return 1;
}

static int indent_flag(lua_State *L, int i) {
  int flags = 0;
  if (lua_type(L, i) == LUA_TTABLE) {
    lua_getfield(L, i, "indent");
    if (lua_toboolean(L, -1)) flags = ORC_JSON_PRINT_INDENT;
    lua_pop(L, 1);
  }
  return flags;
}

/* execution:history_json([{indent=true}]) -> {"events":[...]} as text */
static int execution_history_json(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  orc_json *h = orc_execution_history(x->X);
  if (h == NULL) return luaL_error(L, "out of memory");
  push_printed(L, h, indent_flag(L, 2));
  orc_json_unref(h);
  return 1;
}

/* execution:output_json([{indent=true}]) -> the output as JSON text (key
** order and numbers exactly as produced), or nil */
static int execution_output_json(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  orc_json *out = orc_execution_output(x->X);
  if (out == NULL) {
    lua_pushnil(L);
    return 1;
  }
  return push_printed(L, out, indent_flag(L, 2));
}

/* execution:history() -> {events = {...}} as Lua tables */
static int execution_history(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  orc_json *h = orc_execution_history(x->X);
  if (h == NULL) return luaL_error(L, "out of memory");
  orcL_pushjson(L, h); /* may raise out of memory: h leaks then */
  orc_json_unref(h);
  return 1;
}

static int events_iter(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(2));
  lua_rawgeti(L, lua_upvalueindex(1), (int)i);
  return 1;
}

/* for event in execution:events() do ... end */
static int execution_events(lua_State *L) {
  execution_history(L);
  lua_getfield(L, -1, "events");
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, events_iter, 2);
  return 1;
}

static void set_str_field(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* execution:children() -> the child executions its distributed Map states
** ran (kept with history = "full" only), then those its
** states:startExecution tasks started, each a table {name, arn, status,
** input, output, error, cause, map_run_arn, parent_arn, history = {events =
** ...}}, as they are now. */
static int execution_children(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  size_t i, n = orc_execution_nchildren(x->X), nn = orc_execution_nnested(x->X),
            k = 0;
  lua_createtable(L, (int)(n + nn), 0);
  for (i = 0; i < n + nn; i++) {
    orc_execution *C =
        i < n ? orc_execution_child(x->X, i)
              : orc_engine_find_execution(
                    x->eb->E, orc_execution_nested_arn(x->X, i - n));
    orc_json *h;
    if (C == NULL) continue; /* a nested execution closed since */
    lua_createtable(L, 0, 10);
    set_str_field(L, "name", orc_execution_name(C));
    set_str_field(L, "arn", orc_execution_arn(C));
    set_str_field(L, "status", orc_status_text(orc_execution_status(C)));
    set_str_field(L, "error", orc_execution_error(C));
    set_str_field(L, "cause", orc_execution_cause(C));
    set_str_field(L, "map_run_arn", orc_execution_map_run(C));
    set_str_field(L, "parent_arn", orc_execution_parent_arn(C));
    orcL_pushjson(L, orc_execution_input(C));
    lua_setfield(L, -2, "input");
    if (orc_execution_output(C)) {
      orcL_pushjson(L, orc_execution_output(C));
      lua_setfield(L, -2, "output");
    }
    h = orc_execution_history(C);
    if (h == NULL) return luaL_error(L, "out of memory");
    orcL_pushjson(L, h);
    orc_json_unref(h);
    lua_setfield(L, -2, "history");
    lua_rawseti(L, -2, (int)++k);
  }
  return 1;
}

static int execution_index(lua_State *L) {
  lexecution *x = (lexecution *)orcL_checkudata(L, 1, EXECUTION_MT);
  const char *k = luaL_checkstring(L, 2);
  orc_execution *X = x->X;
  if (X == NULL && x->fields != LUA_NOREF) { /* closed by close() */
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->fields);
    lua_getfield(L, -1, k);
    if (!lua_isnil(L, -1) || !strcmp(k, "error") || !strcmp(k, "cause") ||
        !strcmp(k, "parent_arn"))
      return 1;
    lua_pop(L, 2);
  }
  if (X == NULL || x->eb->E == NULL) {
    luaL_getmetatable(L, EXECUTION_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
    if (!lua_isnil(L, -1)) return 1; /* the method itself says it */
    return luaL_error(L,
                      "execution.%s: the execution is closed (%s); only "
                      "status, name, arn, error, cause, parent_arn and "
                      "transitions stay readable after execution:close()",
                      k,
                      x->eb->E == NULL ? "its engine was closed"
                                       : "execution:close() released it");
  }
  if (!strcmp(k, "status"))
    lua_pushstring(L, orc_status_text(orc_execution_status(X)));
  else if (!strcmp(k, "output")) {
    if (orc_execution_output(X))
      orcL_pushjson(L, orc_execution_output(X));
    else
      lua_pushnil(L);
  } else if (!strcmp(k, "error"))
    lua_pushstring(L, orc_execution_error(X));
  else if (!strcmp(k, "cause"))
    lua_pushstring(L, orc_execution_cause(X));
  else if (!strcmp(k, "name"))
    lua_pushstring(L, orc_execution_name(X));
  else if (!strcmp(k, "arn"))
    lua_pushstring(L, orc_execution_arn(X));
  else if (!strcmp(k, "input"))
    orcL_pushjson(L, orc_execution_input(X));
  else if (!strcmp(k, "parent_arn"))
    lua_pushstring(L, orc_execution_parent_arn(X));
  else if (!strcmp(k, "transitions"))
    lua_pushinteger(L, (lua_Integer)orc_execution_transitions(X));
  else if (!strcmp(k, "metered"))
    lua_pushboolean(L, orc_execution_meter(X) != NULL);
  else if (!strcmp(k, "budget_usd"))
    lua_pushnumber(L, orc_execution_budget(X));
  else if (!strcmp(k, "cost")) { /* orchestra.cost.of(ex) */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "orchestra.cost");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "of");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
  } else {
    luaL_getmetatable(L, EXECUTION_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

/* execution:meter_breakdown(catalog [, options]) -> the breakdown of what
** the engine metered (orchestra.cost.of uses it for a metering engine) */
static int execution_meter_breakdown(lua_State *L) {
  lexecution *x = check_execution(L, 1);
  orc_cost_catalog *C = orcL_checkcatalog(L, 2);
  orc_meter *m = orc_execution_meter(x->X);
  orc_json *opts = NULL, *out = NULL;
  orc_error err;
  char msg[256];
  int rc;
  if (m == NULL)
    return orcL_error(L, "the engine does not meter (orchestra.engine{meter "
                         "= true})");
  if (!lua_isnoneornil(L, 3) &&
      (opts = orcL_tojson(L, 3, 0, msg, sizeof msg)) == NULL)
    return orcL_error(L, "options %s", msg);
  rc = orc_meter_breakdown(m, C, opts, &out, &err);
  orc_json_unref(opts);
  if (rc != ORC_OK) return raise_error(L, "InvalidCatalog", err.message, 0);
  orcL_pushjson(L, out);
  orc_json_unref(out);
  return 1;
}

/* }====== */

/* {====== listing executions (ListExecutions, DescribeExecution) */

/* Push the one userdata of X: the cached one, or a new one that does not
** release X when collected (X was started elsewhere, e.g. by a nested
** task). The engine userdata is at index ei. [-0, +1, m] */
static void push_execution(lua_State *L, lengine *b, int ei, orc_execution *X) {
  lexecution *x;
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->xcache);
  lua_pushlightuserdata(L, X);
  lua_rawget(L, -2);
  x = (lexecution *)lua_touserdata(L, -1);
  if (x != NULL && x->X == X) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  x = (lexecution *)lua_newuserdata(L, sizeof *x);
  x->X = X;
  x->eb = b;
  x->fields = LUA_NOREF;
  x->owned = 0;
  lua_pushvalue(L, ei);
  x->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  luaL_getmetatable(L, EXECUTION_MT);
  lua_setmetatable(L, -2);
  lua_pushlightuserdata(L, X);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_remove(L, -2);
}

/* The machine the value at i names (a machine, its name or its ARN), or
** raises. */
static orc_machine *machine_arg(lua_State *L, lengine *b, int i) {
  orc_execution *X;
  const char *want;
  if (lua_isuserdata(L, i)) {
    lmachine *m = check_machine(L, i);
    if (m->eb != b)
      orcL_error(L, "option 'machine': a machine of another engine");
    return m->M;
  }
  if (lua_type(L, i) != LUA_TSTRING)
    orcL_error(
        L, "option 'machine' must be a machine, its name or its ARN, not %s",
        luaL_typename(L, i));
  want = lua_tostring(L, i);
  for (X = orc_engine_next_execution(b->E, NULL); X;
       X = orc_engine_next_execution(b->E, X)) {
    orc_machine *M = orc_execution_machine(X);
    if (!strcmp(orc_machine_name(M), want) || !strcmp(orc_machine_arn(M), want))
      return M;
  }
  return NULL; /* a machine without executions lists none */
}

/* engine:executions([{status=, machine=}]) -> the executions, newest first,
** optionally those with that status and of that machine (a machine, its
** name or ARN). */
static int engine_executions(lua_State *L) {
  static const char *const known[] = {"status", "machine", NULL};
  static const char *const statuses[] = {"RUNNING",   "SUCCEEDED", "FAILED",
                                         "TIMED_OUT", "ABORTED",   NULL};
  lengine *b = check_engine(L, 1);
  const char *status = NULL;
  orc_machine *M = NULL;
  int by_machine = 0, n = 0;
  orc_execution *X;
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    orcL_checktype(L, 2, LUA_TTABLE);
    orcL_checkoptions(L, 2, known);
    status = orcL_optfield_string(L, 2, "status");
    if (status != NULL) {
      int k;
      for (k = 0; statuses[k] && strcmp(statuses[k], status); k++)
        ;
      if (statuses[k] == NULL)
        return orcL_error(L,
                          "option 'status' must be RUNNING, SUCCEEDED, "
                          "FAILED, TIMED_OUT or ABORTED, not '%s'",
                          status);
    }
    lua_getfield(L, 2, "machine");
    if (!lua_isnil(L, -1)) {
      by_machine = 1;
      M = machine_arg(L, b, lua_gettop(L));
    }
    lua_pop(L, 1);
  }
  lua_newtable(L);
  for (X = orc_engine_next_execution(b->E, NULL); X;
       X = orc_engine_next_execution(b->E, X)) {
    if (by_machine && orc_execution_machine(X) != M) continue;
    if (status && strcmp(orc_status_text(orc_execution_status(X)), status) != 0)
      continue;
    push_execution(L, b, 1, X);
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

/* engine:execution(name_or_arn) -> the execution, or nil. A bare name
** used by executions of two machines is ambiguous: pass the ARN. */
static int engine_execution(lua_State *L) {
  lengine *b = check_engine(L, 1);
  const char *key = orcL_checkstring(L, 2);
  orc_execution *X, *found = NULL;
  if (strstr(key, ":execution:") != NULL) {
    found = orc_engine_find_execution(b->E, key);
  } else {
    for (X = orc_engine_next_execution(b->E, NULL); X;
         X = orc_engine_next_execution(b->E, X)) {
      if (strcmp(orc_execution_name(X), key) != 0) continue;
      if (found != NULL)
        return orcL_error(L,
                          "'%s' names executions of state machines '%s' and "
                          "'%s': pass the ARN",
                          key, orc_machine_name(orc_execution_machine(found)),
                          orc_machine_name(orc_execution_machine(X)));
      found = X;
    }
  }
  if (found == NULL) {
    lua_pushnil(L);
    return 1;
  }
  push_execution(L, b, 1, found);
  return 1;
}

/* }====== */

/* orchestra.validate(definition) -> true | false, {{pointer=, message=}} */
static int l_validate(lua_State *L) {
  orc_engine *E;
  orc_machine *M = NULL;
  orc_diagnostics diag = {0, NULL};
  orc_error err;
  orc_json *def;
  int rc;
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *text = lua_tolstring(L, 1, &len);
    orc_json_limits lim = {0, 0, 1};
    if (orc_json_parse(text, len, &lim, &def, &err) != ORC_OK) {
      lua_pushboolean(L, 0);
      lua_createtable(L, 1, 0);
      lua_createtable(L, 0, 2);
      lua_pushstring(L, err.where);
      lua_setfield(L, -2, "pointer");
      lua_pushstring(L, err.message);
      lua_setfield(L, -2, "message");
      lua_rawseti(L, -2, 1);
      return 2;
    }
  } else {
    def = definition_arg(L, 1);
  }
  E = orc_engine_new(NULL, &err);
  if (E == NULL) {
    orc_json_unref(def);
    return luaL_error(L, "%s", err.message);
  }
  rc = orc_machine_load_json(E, def, NULL, &M, &diag, &err);
  orc_json_unref(def);
  orc_engine_free(E);
  if (rc == ORC_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  push_diagnostics(L, &diag);
  orc_diagnostics_free(&diag);
  return 2;
}

void orcL_open_engine(lua_State *L) {
  static const luaL_Reg engine_methods[] = {
      {"handler", engine_handler},
      {"default_handler", engine_default_handler},
      {"load", engine_load},
      {"step", engine_step},
      {"run", engine_run},
      {"next_deadline", engine_next_deadline},
      {"now", engine_now},
      {"running", engine_running},
      {"advance", engine_advance},
      {"stats", engine_stats},
      {"memory", engine_memory},
      {"task_success", engine_task_success},
      {"task_failure", engine_task_failure},
      {"task_heartbeat", engine_task_heartbeat},
      {"executions", engine_executions},
      {"execution", engine_execution},
      {"close", engine_close},
      {NULL, NULL}};
  static const luaL_Reg machine_methods[] = {{"start", machine_start},
                                             {"start_json", machine_start_json},
                                             {NULL, NULL}};
  static const luaL_Reg execution_methods[] = {
      {"wait", execution_wait},
      {"stop", execution_stop},
      {"close", execution_close},
      {"history", execution_history},
      {"history_json", execution_history_json},
      {"output_json", execution_output_json},
      {"events", execution_events},
      {"children", execution_children},
      {"meter_breakdown", execution_meter_breakdown},
      {NULL, NULL}};
  static const luaL_Reg fns[] = {
      {"engine", engine_new}, {"validate", l_validate}, {NULL, NULL}};
  luaL_newmetatable(L, ENGINE_MT);
  lua_newtable(L);
  orcL_setnamed(L, engine_methods, "engine:");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, engine_close);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, MACHINE_MT);
  lua_newtable(L);
  orcL_setnamed(L, machine_methods, "machine:");
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, machine_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, machine_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, EXECUTION_MT);
  lua_newtable(L);
  orcL_setnamed(L, execution_methods, "execution:");
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, execution_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, execution_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  orcL_setnamed(L, fns, "orchestra.");
  lua_pushlightuserdata(L, PENDING_UD);
  lua_setfield(L, -2, "pending");
}
