/*
** Agents as Lua userdata: engine:_agent(spec) compiles the normalized
** table that lua/orchestra.lua makes from engine:agent{...}; agent:start
** returns an execution handle; executions get pending_tools and resume
** (return of control). Tool handlers and scripted models are ordinary task
** handlers that lua/orchestra.lua registers under the agent's resources.
*/
#include <stdlib.h>
#include <string.h>

#include "lorchestra.h"
#include "orchestra/agent.h"
#include "orchestra/budget.h"
#include "orchestra/bedrock.h"

#define AGENT_MT "orchestra.Agent"

typedef struct lagent {
  orc_agent *A;
  int engine_ref; /* keeps the engine userdata alive */
} lagent;

static lagent *check_agent(lua_State *L, int i) {
  lagent *a = (lagent *)luaL_checkudata(L, i, AGENT_MT);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->engine_ref);
  orcL_check_engine(L, -1); /* raises when the engine is closed */
  lua_pop(L, 1);
  return a;
}

static orc_agent *to_agent(lua_State *L, int i) {
  lagent *a = (lagent *)lua_touserdata(L, i);
  int same;
  if (a == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, AGENT_MT);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? a->A : NULL;
}

/* {====== reading the spec */

static const char *opt_str(lua_State *L, int t, const char *k) {
  const char *s;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "engine:agent: option '%s' must be a string, not %s", k,
               luaL_typename(L, -1));
  s = lua_tostring(L, -1);
  lua_pop(L, 1); /* the string stays alive: it is in the spec table */
  return s;
}

static double opt_num(lua_State *L, int t, const char *k, double def,
                      double lo) {
  double v = def;
  lua_getfield(L, t, k);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < lo)
      luaL_error(L, "engine:agent: option '%s' must be a number >= %g", k, lo);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* The JSON value of field k (a table), or NULL; kept in *keep (released
** by the caller). */
static orc_json *opt_json(lua_State *L, int t, const char *k,
                          const char *what) {
  orc_json *v;
  char msg[300];
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  v = orcL_tojson(L, -1, 0, msg, sizeof msg);
  lua_pop(L, 1);
  if (v == NULL) luaL_error(L, "engine:agent: %s %s", what, msg);
  return v;
}

/* [-0, +0, e] The model declaration at t (lua/orchestra.lua's normalized
** table) into m; its strings stay in the table. */
static void read_model(lua_State *L, int t, orc_agent_model *m,
                       const char *who) {
  const char *kind = opt_str(L, t, "kind");
  if (kind == NULL || !strcmp(kind, "scripted")) {
    m->kind = ORC_MODEL_SCRIPTED;
    m->resource = opt_str(L, t, "resource");
    m->model = opt_str(L, t, "model"); /* priced as */
    lua_getfield(L, t, "with_messages");
    m->with_messages = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return;
  }
  m->kind = !strcmp(kind, "openai")      ? ORC_MODEL_OPENAI
            : !strcmp(kind, "anthropic") ? ORC_MODEL_ANTHROPIC
            : !strcmp(kind, "bedrock")   ? ORC_MODEL_BEDROCK
                                         : -1;
  if (m->kind < 0) luaL_error(L, "%s: unknown model kind '%s'", who, kind);
  m->model = opt_str(L, t, "model");
  m->base_url = opt_str(L, t, "base_url");
  m->api_key = opt_str(L, t, "api_key");
  m->anthropic_version = opt_str(L, t, "anthropic_version");
  m->region = opt_str(L, t, "region");
  m->endpoint_url = opt_str(L, t, "endpoint_url");
  m->timeout_ms = (long)opt_num(L, t, "timeout_ms", 0, 0);
}

typedef struct spec_mem {
  orc_agent_tool *tools;
  size_t ntools;
  orc_json *output_schema;
} spec_mem;

static void spec_free(spec_mem *m) {
  size_t i;
  for (i = 0; i < m->ntools; i++)
    orc_json_unref(m->tools[i].schema);
  free(m->tools);
  orc_json_unref(m->output_schema);
  memset(m, 0, sizeof *m);
}

/* [-0, +0, e] Read spec (at 2) into cfg; what it allocates goes to m, and
** m is released by a __gc'd holder if a Lua error escapes: keep it on the
** stack. */
static void read_spec(lua_State *L, orc_agent_config *cfg, spec_mem *m) {
  const char *kind;
  size_t i, n;
  orc_agent_config_init(cfg);
  cfg->name = opt_str(L, 2, "name");
  cfg->instructions = opt_str(L, 2, "instructions");
  cfg->max_steps = (int)opt_num(L, 2, "max_steps", 10, 1);
  cfg->max_tokens = (int64_t)opt_num(L, 2, "max_tokens", 0, 0);
  cfg->temperature = opt_num(L, 2, "temperature", -1, -1);
  cfg->timeout_seconds = opt_num(L, 2, "timeout_seconds", 0, 0);
  cfg->max_repeated_calls = (int)opt_num(L, 2, "max_repeated_calls", 3, 1);
  cfg->budget_usd = orcL_opt_budget(L, 2, "engine:agent");
  lua_getfield(L, 2, "retry");
  if (lua_istable(L, -1)) {
    int r = lua_gettop(L);
    cfg->retry_max_attempts = (int)opt_num(L, r, "max_attempts", 3, 1);
    cfg->retry_base_ms = opt_num(L, r, "base_ms", 1000, 0);
    cfg->retry_max_ms = opt_num(L, r, "max_ms", 60000, 0);
  }
  lua_pop(L, 1);
  m->output_schema = opt_json(L, 2, "output_schema", "output_schema");
  cfg->output_schema = m->output_schema;
  lua_getfield(L, 2, "model");
  if (!lua_istable(L, -1))
    luaL_error(L, "engine:agent: option 'model' is required (an "
                  "orchestra.models.* value)");
  read_model(L, lua_gettop(L), &cfg->model, "engine:agent");
  lua_pop(L, 1);
  lua_getfield(L, 2, "tools");
  n = lua_istable(L, -1) ? (size_t)orc_rawlen(L, -1) : 0;
  m->tools = (orc_agent_tool *)calloc(n + 1, sizeof *m->tools);
  if (m->tools == NULL) luaL_error(L, "out of memory");
  for (i = 0; i < n; i++) {
    orc_agent_tool *d = &m->tools[i];
    int t;
    lua_rawgeti(L, -1, (int)(i + 1));
    t = lua_gettop(L);
    d->name = opt_str(L, t, "name");
    d->description = opt_str(L, t, "description");
    d->resource = opt_str(L, t, "resource");
    d->schema = opt_json(L, t, "schema", "tool schema");
    m->ntools = i + 1;
    kind = opt_str(L, t, "kind");
    if (kind == NULL || !strcmp(kind, "host")) {
      d->kind = ORC_TOOL_HOST;
    } else if (!strcmp(kind, "return")) {
      d->kind = ORC_TOOL_RETURN;
    } else if (!strcmp(kind, "machine")) {
      d->kind = ORC_TOOL_MACHINE;
      lua_getfield(L, t, "target");
      d->machine = orcL_to_machine(L, -1);
      lua_pop(L, 1);
    } else if (!strcmp(kind, "agent")) {
      d->kind = ORC_TOOL_AGENT;
      lua_getfield(L, t, "target");
      d->agent = to_agent(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  cfg->tools = m->tools;
  cfg->ntools = m->ntools;
}

static int spec_gc(lua_State *L) {
  spec_free((spec_mem *)lua_touserdata(L, 1));
  return 0;
}

/* }====== */

/* engine:_agent(spec) -> agent (spec: see lua/orchestra.lua) */
static int engine_agent(lua_State *L) {
  orc_engine *E = orcL_check_engine(L, 1);
  orc_agent_config cfg;
  spec_mem *m;
  orc_agent *A = NULL;
  orc_error err;
  lagent *a;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  m = (spec_mem *)lua_newuserdata(L, sizeof *m); /* freed on error too */
  memset(m, 0, sizeof *m);
  lua_newtable(L);
  lua_pushcfunction(L, spec_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  read_spec(L, &cfg, m);
  if (cfg.budget_usd > 0) orcL_engine_ensure_catalog(L, 1);
  rc = orc_agent_new(E, &cfg, &A, &err);
  spec_free(m);
  if (rc != ORC_OK) {
    lua_newtable(L);
    lua_pushstring(L, "InvalidAgent");
    lua_setfield(L, -2, "code");
    lua_pushfstring(L, "engine:agent: %s", err.message);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, "orchestra.Error");
    lua_setmetatable(L, -2);
    return lua_error(L);
  }
  a = (lagent *)lua_newuserdata(L, sizeof *a);
  a->A = A;
  lua_pushvalue(L, 1);
  a->engine_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  luaL_getmetatable(L, AGENT_MT);
  lua_setmetatable(L, -2);
  return 1;
}

/* engine:_route_model(prefix, model) -> resource or nil: bedrock:invokeModel
** tasks whose ModelId starts with prefix go to model (the normalized table
** of lua/orchestra.lua); a scripted model's tasks are of the resource
** returned. Raises {code = "InvalidModel", message}. */
static int engine_route_model(lua_State *L) {
  orc_engine *E = orcL_check_engine(L, 1);
  const char *prefix = luaL_checkstring(L, 2);
  orc_agent_model m;
  const char *resource = NULL;
  orc_error err;
  luaL_checktype(L, 3, LUA_TTABLE);
  memset(&m, 0, sizeof m);
  read_model(L, 3, &m, "orchestra.engine: models");
  if (orc_engine_route_model(E, prefix, &m, &resource, &err) != ORC_OK) {
    lua_newtable(L);
    lua_pushstring(L, "InvalidModel");
    lua_setfield(L, -2, "code");
    lua_pushfstring(L, "orchestra.engine: %s", err.message);
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, "orchestra.Error");
    lua_setmetatable(L, -2);
    return lua_error(L);
  }
  if (resource)
    lua_pushstring(L, resource);
  else
    lua_pushnil(L);
  return 1;
}

/* engine:_agent_attrs(token, attributes): a tool handler's ctx.session
** written back. */
static int engine_agent_attrs(lua_State *L) {
  orc_engine *E = orcL_check_engine(L, 1);
  orc_task *T = orc_engine_find_task(E, luaL_checkstring(L, 2));
  orc_json *v;
  char msg[300];
  orc_error err;
  if (T == NULL || lua_isnil(L, 3)) return 0; /* answered meanwhile */
  v = orcL_tojson(L, 3, 0, msg, sizeof msg);
  if (v == NULL) return luaL_error(L, "ctx.session %s", msg);
  if (orc_agent_task_set_attributes(T, v, &err) != ORC_OK) {
    orc_json_unref(v);
    return luaL_error(L, "ctx.session: %s", err.message);
  }
  orc_json_unref(v);
  return 0;
}

/* engine:wait([ms]) -> engine: sleep until a model call's transfer has
** activity, a post or a wakeup arrives, or ms pass (default: the engine's
** next deadline; never longer than 1 s while transfers are in flight).
** For hosts that drive engine:step() themselves. */
static int engine_wait(lua_State *L) {
  orc_engine *E = orcL_check_engine(L, 1);
  int64_t ms = lua_isnoneornil(L, 2) ? orc_engine_next_deadline(E)
                                     : (int64_t)luaL_checknumber(L, 2);
  orc_engine_wait(E, ms);
  lua_settop(L, 1);
  return 1;
}

/* [-1, +0, v] Raise the error at the top as {code =, message =}. */
static int raise_start(lua_State *L, const orc_error *err) {
  lua_newtable(L);
  lua_pushstring(L, strstr(err->message, "ExecutionAlreadyExists")
                        ? "ExecutionAlreadyExists"
                        : "InvalidArgument");
  lua_setfield(L, -2, "code");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  luaL_getmetatable(L, "orchestra.Error");
  lua_setmetatable(L, -2);
  return lua_error(L);
}

/* agent:start(prompt [, {session=, name=, budget_usd=}]) -> execution */
static int agent_start(lua_State *L) {
  lagent *a = check_agent(L, 1);
  const char *prompt = luaL_checkstring(L, 2);
  const char *session = NULL, *name = NULL;
  orc_execution *X = NULL;
  orc_error err;
  double budget = -1; /* -1: the agent's or the engine's */
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      const char *k =
          lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (strcmp(k, "session") && strcmp(k, "name") && strcmp(k, "budget_usd"))
        return luaL_error(
            L, "agent:start: unknown option '%s' (session, name, budget_usd)",
            k);
      lua_pop(L, 1);
    }
    lua_getfield(L, 3, "session");
    session = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_getfield(L, 3, "name");
    name = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_getfield(L, 3, "budget_usd");
    if (!lua_isnil(L, -1)) {
      budget = orcL_opt_budget(L, 3, "agent:start");
      if (budget > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, a->engine_ref);
        orcL_engine_ensure_catalog(L, lua_gettop(L));
        lua_pop(L, 1);
      }
    }
  }
  if (orc_agent_start(a->A, prompt, session, name, &X, &err) != ORC_OK)
    return raise_start(L, &err);
  if (budget >= 0 && orc_execution_set_budget(X, budget, &err) != ORC_OK) {
    orc_execution_close(X); /* it has not run yet */
    return raise_start(L, &err);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->engine_ref);
  orcL_push_execution(L, -1, X);
  return 1;
}

/* agent:session(id) -> {messages = {...}, attributes = {...}} or nil */
static int agent_session(lua_State *L) {
  lagent *a = check_agent(L, 1);
  orc_json *s = orc_agent_session(a->A, luaL_checkstring(L, 2));
  if (s == NULL) {
    lua_pushnil(L);
    return 1;
  }
  orcL_pushjson(L, s);
  orc_json_unref(s);
  return 1;
}

/* agent:clear_session(id) */
static int agent_clear_session(lua_State *L) {
  lagent *a = check_agent(L, 1);
  orc_agent_clear_session(a->A, luaL_checkstring(L, 2));
  return 0;
}

static int agent_gc(lua_State *L) {
  lagent *a = (lagent *)luaL_checkudata(L, 1, AGENT_MT);
  luaL_unref(L, LUA_REGISTRYINDEX, a->engine_ref);
  a->engine_ref = LUA_NOREF;
  return 0;
}

static int agent_index(lua_State *L) {
  lagent *a = check_agent(L, 1);
  const char *k = luaL_checkstring(L, 2);
  if (!strcmp(k, "name")) {
    lua_pushstring(L, orc_agent_name(a->A));
  } else {
    luaL_getmetatable(L, AGENT_MT);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
  }
  return 1;
}

/* {====== return of control */

#define MAX_PENDING 256

/* ex:pending_tools() -> {{id=, name=, arguments=, token=}, ...} */
static int execution_pending_tools(lua_State *L) {
  orc_execution *X = orcL_check_execution(L, 1);
  orc_task *tasks[MAX_PENDING];
  size_t n = orc_agent_pending_tools(X, tasks, MAX_PENDING), i;
  if (n > MAX_PENDING) n = MAX_PENDING;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    orc_json *in = orc_task_input(tasks[i]);
    lua_createtable(L, 0, 4);
    orcL_pushjson(L, orc_json_object_find(in, "id", 2));
    lua_setfield(L, -2, "id");
    orcL_pushjson(L, orc_json_object_find(in, "name", 4));
    lua_setfield(L, -2, "name");
    orcL_pushjson(L, orc_json_object_find(in, "arguments", 9));
    lua_setfield(L, -2, "arguments");
    lua_pushstring(L, orc_task_token(tasks[i]));
    lua_setfield(L, -2, "token");
    lua_rawseti(L, -2, (int)(i + 1));
  }
  return 1;
}

/* ex:resume{[call id] = result, ...} -> ex: answer the pending calls
** named; an unknown id is an error (nothing is answered then). */
static int execution_resume(lua_State *L) {
  orc_execution *X = orcL_check_execution(L, 1);
  orc_task *tasks[MAX_PENDING];
  size_t n = orc_agent_pending_tools(X, tasks, MAX_PENDING), i;
  if (n > MAX_PENDING) n = MAX_PENDING;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_pushnil(L); /* check first: all or nothing */
  while (lua_next(L, 2)) {
    int found = 0;
    const char *id =
        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    for (i = 0; id && i < n; i++) {
      const char *tid = orc_json_string_value(
          orc_json_object_find(orc_task_input(tasks[i]), "id", 2), NULL);
      if (tid && !strcmp(tid, id)) found = 1;
    }
    if (!found)
      return luaL_error(L,
                        "ex:resume: no pending tool call has the id '%s' "
                        "(see ex:pending_tools())",
                        id ? id : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
  for (i = 0; i < n; i++) {
    const char *tid = orc_json_string_value(
        orc_json_object_find(orc_task_input(tasks[i]), "id", 2), NULL);
    orc_json *v;
    char msg[300];
    if (tid == NULL) continue;
    lua_getfield(L, 2, tid);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    v = orcL_tojson(L, -1, 0, msg, sizeof msg);
    lua_pop(L, 1);
    if (v == NULL)
      return luaL_error(L, "ex:resume: result of '%s' %s", tid, msg);
    orc_task_succeed(tasks[i], v, NULL);
  }
  lua_settop(L, 1);
  return 1;
}

/* }====== */

void orcL_open_agent(lua_State *L) {
  static const luaL_Reg agent_methods[] = {
      {"start", agent_start},
      {"session", agent_session},
      {"clear_session", agent_clear_session},
      {NULL, NULL}};
  luaL_newmetatable(L, AGENT_MT);
  lua_newtable(L);
  orc_setfuncs(L, agent_methods, 0);
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, agent_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, agent_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_getmetatable(L, "orchestra.Engine");
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, engine_agent);
  lua_setfield(L, -2, "_agent");
  lua_pushcfunction(L, engine_agent_attrs);
  lua_setfield(L, -2, "_agent_attrs");
  lua_pushcfunction(L, engine_route_model);
  lua_setfield(L, -2, "_route_model");
  lua_pushcfunction(L, engine_wait);
  lua_setfield(L, -2, "wait");
  lua_pop(L, 2);

  luaL_getmetatable(L, "orchestra.Execution");
  lua_getfield(L, -1, "methods");
  lua_pushcfunction(L, execution_pending_tools);
  lua_setfield(L, -2, "pending_tools");
  lua_pushcfunction(L, execution_resume);
  lua_setfield(L, -2, "resume");
  lua_pop(L, 2);
}
