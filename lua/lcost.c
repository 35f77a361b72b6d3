/*
** The cost model's binding: price catalogs and meters as userdata over
** core/include/orchestra/cost.h. The friendly API (scenario, compare,
** sweep, of, tables and charts) is lua/orchestra/cost.lua.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lorchestra.h"
#include "orchestra/cost.h"

#define CATALOG_MT "orchestra.CostCatalog"
#define METER_MT   "orchestra.CostMeter"
#define ERROR_MT   "orchestra.Error" /* made by orcL_open_engine */

/* Raise {code=, message=, pointer=} from err [-0, +0, v]. */
static int raise_cost(lua_State *L, const char *code, const orc_error *err) {
  lua_newtable(L);
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  lua_pushstring(L, err->where);
  lua_setfield(L, -2, "pointer");
  luaL_getmetatable(L, ERROR_MT);
  lua_setmetatable(L, -2);
  return lua_error(L);
}

/* The Lua value at idx as JSON (returns owned) or a raised error naming
** what cannot be converted [-0, +0, v]. */
static orc_json *tojson(lua_State *L, int idx, const char *code) {
  char msg[200];
  orc_json *j = orcL_tojson(L, idx, 64, msg, sizeof msg);
  if (j == NULL) {
    orc_error e;
    memset(&e, 0, sizeof e);
    snprintf(e.message, sizeof e.message, "%s", msg);
    raise_cost(L, code, &e);
  }
  return j;
}

/* Optional JSON argument: nil gives NULL. */
static orc_json *opt_json(lua_State *L, int idx, const char *code) {
  if (lua_isnoneornil(L, idx)) return NULL;
  return tojson(L, idx, code);
}

/* Push an owned JSON result, releasing it [-0, +1, m]. */
static void push_owned(lua_State *L, orc_json *j) {
  orcL_pushjson(L, j);
  orc_json_unref(j);
}

/* {====== catalogs */

static orc_cost_catalog **catalog_box(lua_State *L, int idx) {
  orc_cost_catalog **box = luaL_checkudata(L, idx, CATALOG_MT);
  if (*box == NULL) luaL_argerror(L, idx, "the catalog is closed");
  return box;
}
#define check_catalog(L, i) (*catalog_box((L), (i)))

orc_cost_catalog *orcL_checkcatalog(lua_State *L, int idx) {
  return check_catalog(L, idx);
}

/* orchestra.core.cost_catalog() -> an empty catalog [-0, +1, m] */
static int catalog_new(lua_State *L) {
  orc_cost_catalog **box = lua_newuserdata(L, sizeof *box);
  *box = NULL;
  luaL_getmetatable(L, CATALOG_MT);
  lua_setmetatable(L, -2);
  *box = orc_cost_catalog_new();
  if (*box == NULL) return luaL_error(L, "out of memory");
  return 1;
}

static int catalog_gc(lua_State *L) {
  orc_cost_catalog **box = luaL_checkudata(L, 1, CATALOG_MT);
  orc_cost_catalog_free(*box);
  *box = NULL;
  return 0;
}

/* catalog:load(text_or_table) merges prices in; returns the catalog. */
static int catalog_load(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len;
    const char *text = lua_tolstring(L, 2, &len);
    rc = orc_cost_catalog_load_text(C, text, len, &err);
  } else {
    orc_json *doc;
    luaL_checktype(L, 2, LUA_TTABLE);
    doc = tojson(L, 2, "InvalidCatalog");
    rc = orc_cost_catalog_load(C, doc, &err);
    orc_json_unref(doc);
  }
  if (rc != ORC_OK) return raise_cost(L, "InvalidCatalog", &err);
  lua_settop(L, 1);
  return 1;
}

static int catalog_json(lua_State *L) {
  orc_json *doc = orc_cost_catalog_json(check_catalog(L, 1));
  if (doc == NULL)
    lua_newtable(L);
  else
    orcL_pushjson(L, doc);
  return 1;
}

static void set_price(lua_State *L, const char *key, double v) {
  if (v < 0) return;
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* catalog:model(name) -> {key, name, source, as_of, input, output, ...}
** in USD per token, or raises for an unknown model. */
static int catalog_model(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  const char *name = luaL_checkstring(L, 2);
  orc_cost_model_price p;
  orc_error err;
  memset(&err, 0, sizeof err);
  if (orc_cost_catalog_model(C, name, &p, &err) != ORC_OK)
    return raise_cost(L, "UnknownModel", &err);
  lua_newtable(L);
  lua_pushstring(L, p.key);
  lua_setfield(L, -2, "key");
  lua_pushstring(L, p.name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, p.source);
  lua_setfield(L, -2, "source");
  lua_pushstring(L, p.as_of);
  lua_setfield(L, -2, "as_of");
  set_price(L, "input", p.input);
  set_price(L, "output", p.output);
  set_price(L, "cache_write", p.cache_write);
  set_price(L, "cache_read", p.cache_read);
  set_price(L, "batch_discount", p.batch_discount);
  lua_pushboolean(L, p.confirmed);
  lua_setfield(L, -2, "confirmed");
  return 1;
}

static int done_number(lua_State *L, int rc, double v, const orc_error *err,
                       const char *code) {
  if (rc != ORC_OK) return raise_cost(L, code, err);
  lua_pushnumber(L, v);
  return 1;
}

/* catalog:standard(transitions [, free_tier [, region]]) -> usd */
static int catalog_standard(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  double usd = 0;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_cost_standard(C, luaL_optstring(L, 4, NULL), luaL_checknumber(L, 2),
                         lua_toboolean(L, 3), &usd, &err);
  return done_number(L, rc, usd, &err, "InvalidScenario");
}

/* catalog:express(executions, duration_ms, memory_mb) -> usd */
static int catalog_express(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  double usd = 0;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_cost_express(C, luaL_checknumber(L, 2), luaL_checknumber(L, 3),
                        luaL_optnumber(L, 4, 64), &usd, &err);
  return done_number(L, rc, usd, &err, "InvalidScenario");
}

static double field_number(lua_State *L, int idx, const char *key) {
  double v;
  lua_getfield(L, idx, key);
  v = lua_isnil(L, -1) ? 0 : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* catalog:tokens(model, {input=, output=, cache_write=, cache_read=}
** [, batch]) -> usd */
static int catalog_tokens(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  const char *model = luaL_checkstring(L, 2);
  orc_cost_tokens t;
  double usd = 0;
  orc_error err;
  int rc;
  luaL_checktype(L, 3, LUA_TTABLE);
  memset(&err, 0, sizeof err);
  t.input = field_number(L, 3, "input");
  t.output = field_number(L, 3, "output");
  t.cache_write = field_number(L, 3, "cache_write");
  t.cache_read = field_number(L, 3, "cache_read");
  rc = orc_cost_tokens_usd(C, model, &t, lua_toboolean(L, 4), &usd, &err);
  return done_number(L, rc, usd, &err, "InvalidScenario");
}

/* catalog:call_bound(model, input_tokens, max_tokens) -> usd */
static int catalog_call_bound(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  double usd = 0;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_cost_model_call_bound(C, luaL_checkstring(L, 2),
                                 luaL_checknumber(L, 3), luaL_checknumber(L, 4),
                                 &usd, &err);
  return done_number(L, rc, usd, &err, "UnknownModel");
}

/* catalog:scenario(t) -> {name, executions, per_execution, monthly, ...} */
static int catalog_scenario(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  orc_json *s, *out = NULL;
  orc_error err;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  memset(&err, 0, sizeof err);
  s = tojson(L, 2, "InvalidScenario");
  rc = orc_cost_scenario(C, s, &out, &err);
  orc_json_unref(s);
  if (rc != ORC_OK) return raise_cost(L, "InvalidScenario", &err);
  push_owned(L, out);
  return 1;
}

/* catalog:monthly(t [, executions]) -> usd */
static int catalog_monthly(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  orc_json *s;
  double usd = 0;
  orc_error err;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  memset(&err, 0, sizeof err);
  s = tojson(L, 2, "InvalidScenario");
  rc = orc_cost_monthly(C, s, luaL_optnumber(L, 3, -1), &usd, &err);
  orc_json_unref(s);
  return done_number(L, rc, usd, &err, "InvalidScenario");
}

/* catalog:compare({scenario...}, {volume...}) -> comparison table */
static int catalog_compare(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  orc_json *list, *out = NULL;
  double *volumes;
  size_t n, i;
  orc_error err;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  memset(&err, 0, sizeof err);
  n = orc_rawlen(L, 3);
  /* the volumes live in a userdata so a raised error cannot leak them */
  volumes = lua_newuserdata(L, (n ? n : 1) * sizeof *volumes);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 3, (int)i + 1);
    volumes[i] = lua_tonumber(L, -1);
    if (!lua_isnumber(L, -1) || !(volumes[i] >= 0) || !isfinite(volumes[i]))
      return luaL_argerror(L, 3, "volumes must be non-negative numbers");
    lua_pop(L, 1);
  }
  list = tojson(L, 2, "InvalidScenario");
  rc = orc_cost_compare(C, list, volumes, n, &out, &err);
  orc_json_unref(list);
  if (rc != ORC_OK) return raise_cost(L, "InvalidScenario", &err);
  push_owned(L, out);
  return 1;
}

/* catalog:sensitivity(t [, delta]) -> {base, delta, inputs} */
static int catalog_sensitivity(lua_State *L) {
  orc_cost_catalog *C = check_catalog(L, 1);
  orc_json *s, *out = NULL;
  orc_error err;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  memset(&err, 0, sizeof err);
  s = tojson(L, 2, "InvalidScenario");
  rc = orc_cost_sensitivity(C, s, luaL_optnumber(L, 3, 0.2), &out, &err);
  orc_json_unref(s);
  if (rc != ORC_OK) return raise_cost(L, "InvalidScenario", &err);
  push_owned(L, out);
  return 1;
}

/* }====== */

/* {====== meters */

static orc_meter *check_meter(lua_State *L, int idx) {
  orc_meter **box = luaL_checkudata(L, idx, METER_MT);
  if (*box == NULL) luaL_argerror(L, idx, "the meter is closed");
  return *box;
}

static int meter_new(lua_State *L) {
  orc_meter **box = lua_newuserdata(L, sizeof *box);
  *box = NULL;
  luaL_getmetatable(L, METER_MT);
  lua_setmetatable(L, -2);
  *box = orc_meter_new();
  if (*box == NULL) return luaL_error(L, "out of memory");
  return 1;
}

static int meter_gc(lua_State *L) {
  orc_meter **box = luaL_checkudata(L, 1, METER_MT);
  orc_meter_free(*box);
  *box = NULL;
  return 0;
}

/* meter:add(type [, timestamp [, details]]) counts one event. */
static int meter_add(lua_State *L) {
  orc_meter *m = check_meter(L, 1);
  const char *type = luaL_checkstring(L, 2);
  double ts = luaL_optnumber(L, 3, NAN);
  orc_json *d = opt_json(L, 4, "InvalidHistory");
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_meter_add_event(m, type, ts, d, &err);
  orc_json_unref(d);
  if (rc != ORC_OK) return raise_cost(L, "InvalidHistory", &err);
  return 0;
}

/* meter:add_history(history) counts {events = {...}} (table or JSON). */
static int meter_add_history(lua_State *L) {
  orc_meter *m = check_meter(L, 1);
  orc_json *h;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len;
    const char *text = lua_tolstring(L, 2, &len);
    if ((rc = orc_json_parse(text, len, NULL, &h, &err)) != ORC_OK)
      return raise_cost(L, "InvalidHistory", &err);
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    h = tojson(L, 2, "InvalidHistory");
  }
  rc = orc_meter_add_history(m, h, &err);
  orc_json_unref(h);
  if (rc != ORC_OK) return raise_cost(L, "InvalidHistory", &err);
  return 0;
}

static void set_count(lua_State *L, const char *key, uint64_t v) {
  lua_pushnumber(L, (lua_Number)v);
  lua_setfield(L, -2, key);
}

/* meter:counts() -> {transitions, state_entries, retries, ..., models} */
static int meter_counts(lua_State *L) {
  orc_meter *m = check_meter(L, 1);
  orc_meter_counts c;
  size_t i;
  orc_meter_counts_get(m, &c);
  lua_newtable(L);
  set_count(L, "transitions", c.transitions);
  set_count(L, "state_entries", c.state_entries);
  set_count(L, "retries", c.retries);
  set_count(L, "executions", c.executions);
  set_count(L, "finished", c.finished);
  set_count(L, "duration_ms", c.duration_ms);
  set_count(L, "billed_100ms", c.billed_100ms);
  set_count(L, "model_calls", c.model_calls);
  set_count(L, "tool_calls", c.tool_calls);
  lua_newtable(L);
  for (i = 0; i < c.nmodels; i++) {
    orc_cost_tokens t;
    const char *name = orc_meter_model(m, i, &t);
    lua_newtable(L);
    lua_pushnumber(L, t.input);
    lua_setfield(L, -2, "input");
    lua_pushnumber(L, t.output);
    lua_setfield(L, -2, "output");
    lua_pushnumber(L, t.cache_write);
    lua_setfield(L, -2, "cache_write");
    lua_pushnumber(L, t.cache_read);
    lua_setfield(L, -2, "cache_read");
    lua_setfield(L, -2, name);
  }
  lua_setfield(L, -2, "models");
  return 1;
}

/* meter:breakdown(catalog [, opts]) -> {lines, subtotals, total, ...} */
static int meter_breakdown(lua_State *L) {
  orc_meter *m = check_meter(L, 1);
  orc_cost_catalog *C = check_catalog(L, 2);
  orc_json *o = opt_json(L, 3, "InvalidScenario"), *out = NULL;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_meter_breakdown(m, C, o, &out, &err);
  orc_json_unref(o);
  if (rc != ORC_OK) return raise_cost(L, "InvalidScenario", &err);
  push_owned(L, out);
  return 1;
}

/* meter:would_exceed(catalog, opts, model, input_tokens, max_tokens,
** budget_usd) -> boolean, spent_usd */
static int meter_would_exceed(lua_State *L) {
  orc_meter *m = check_meter(L, 1);
  orc_cost_catalog *C = check_catalog(L, 2);
  orc_json *o = opt_json(L, 3, "InvalidScenario");
  double spent = 0;
  orc_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = orc_meter_would_exceed(m, C, o, luaL_checkstring(L, 4),
                              luaL_checknumber(L, 5), luaL_checknumber(L, 6),
                              luaL_checknumber(L, 7), &spent, &err);
  orc_json_unref(o);
  if (rc < 0) return raise_cost(L, "InvalidScenario", &err);
  lua_pushboolean(L, rc == 1);
  lua_pushnumber(L, spent);
  return 2;
}

/* }====== */

/* orchestra.core.cost_summarize({numbers}) -> {n, mean, min, max, p50,
** p95, p99} */
static int l_summarize(lua_State *L) {
  size_t n, i;
  double *v;
  orc_cost_summary s;
  orc_error err;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = orc_rawlen(L, 1);
  v = lua_newuserdata(L, (n ? n : 1) * sizeof *v);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (int)i + 1);
    if (!lua_isnumber(L, -1)) return luaL_argerror(L, 1, "a list of numbers");
    v[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  memset(&err, 0, sizeof err);
  if (orc_cost_summarize(v, n, &s, &err) != ORC_OK)
    return raise_cost(L, "InvalidScenario", &err);
  lua_newtable(L);
  lua_pushnumber(L, (lua_Number)s.n);
  lua_setfield(L, -2, "n");
  lua_pushnumber(L, s.mean);
  lua_setfield(L, -2, "mean");
  lua_pushnumber(L, s.min);
  lua_setfield(L, -2, "min");
  lua_pushnumber(L, s.max);
  lua_setfield(L, -2, "max");
  lua_pushnumber(L, s.p50);
  lua_setfield(L, -2, "p50");
  lua_pushnumber(L, s.p95);
  lua_setfield(L, -2, "p95");
  lua_pushnumber(L, s.p99);
  lua_setfield(L, -2, "p99");
  return 1;
}

void orcL_open_cost(lua_State *L) {
  static const luaL_Reg catalog_methods[] = {
      {"load", catalog_load},
      {"json", catalog_json},
      {"model", catalog_model},
      {"standard", catalog_standard},
      {"express", catalog_express},
      {"tokens", catalog_tokens},
      {"call_bound", catalog_call_bound},
      {"scenario", catalog_scenario},
      {"monthly", catalog_monthly},
      {"compare", catalog_compare},
      {"sensitivity", catalog_sensitivity},
      {"close", catalog_gc},
      {NULL, NULL}};
  static const luaL_Reg meter_methods[] = {{"add", meter_add},
                                           {"add_history", meter_add_history},
                                           {"counts", meter_counts},
                                           {"breakdown", meter_breakdown},
                                           {"would_exceed", meter_would_exceed},
                                           {"close", meter_gc},
                                           {NULL, NULL}};
  static const luaL_Reg fns[] = {{"cost_catalog", catalog_new},
                                 {"cost_meter", meter_new},
                                 {"cost_summarize", l_summarize},
                                 {NULL, NULL}};
  luaL_newmetatable(L, CATALOG_MT);
  lua_newtable(L);
  orc_setfuncs(L, catalog_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, catalog_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, METER_MT);
  lua_newtable(L);
  orc_setfuncs(L, meter_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, meter_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  orc_setfuncs(L, fns, 0);
}
