/*
** orchestra.jsonata: JSONata expressions from Lua.
**
**   local x = orchestra.jsonata.compile("Account.Order.Product.Price")
**   x:evaluate(input [, bindings [, limits]]) -> value | nil (undefined)
**   x:evaluate_json(input_text [, bindings [, limits]]) -> value | nil
**   orchestra.jsonata.evaluate(expr, input [, bindings [, opts]])
**
** compile's options: {aws = true} adds Step Functions' extension functions.
** Limits (also in evaluate's opts): max_depth, max_steps, timeout_ms,
** now_ms, seed. A JSONata error is raised as a table {code=, position=,
** token=, message=} whose __tostring gives "code: message (position n)".
*/
#include <string.h>

#include "lorchestra.h"
#include "orchestra/jsonata.h"

#define JSONATA_MT "orchestra.JSONata"
#define JBOX_MT    "orchestra.jsonatabox"
#define JERR_MT    "orchestra.JSONataError"

typedef struct lexpr {
  orc_jsonata *x; /* NULL: freed */
} lexpr;

/* Holds the input and result while Lua calls that may raise run. */
typedef struct jbox {
  orc_json *in, *bind, *out;
} jbox;

static int jbox_gc(lua_State *L) {
  jbox *b = (jbox *)luaL_checkudata(L, 1, JBOX_MT);
  orc_json_unref(b->in);
  orc_json_unref(b->bind);
  orc_json_unref(b->out);
  b->in = b->bind = b->out = NULL;
  return 0;
}

static int expr_gc(lua_State *L) {
  lexpr *e = (lexpr *)luaL_checkudata(L, 1, JSONATA_MT);
  orc_jsonata_free(e->x);
  e->x = NULL;
  return 0;
}

static int err_tostring(lua_State *L) {
  lua_getfield(L, 1, "code");
  lua_getfield(L, 1, "message");
  lua_getfield(L, 1, "position");
  lua_pushfstring(L, "%s: %s (position %d)", lua_tostring(L, -3),
                  lua_tostring(L, -2), (int)lua_tointeger(L, -1));
  return 1;
}

/* Raise err as a table [-0, +0, v] */
static int raise(lua_State *L, const orc_jsonata_error *err) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, err->code[0] ? err->code : orc_status_name(err->status));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, err->position);
  lua_setfield(L, -2, "position");
  lua_pushstring(L, err->token);
  lua_setfield(L, -2, "token");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  luaL_getmetatable(L, JERR_MT);
  lua_setmetatable(L, -2);
  return lua_error(L);
}

static double opt_num(lua_State *L, int t, const char *name) {
  double v = 0;
  if (lua_type(L, t) != LUA_TTABLE) return 0;
  lua_getfield(L, t, name);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0)
      luaL_error(L, "jsonata: option '%s' must be a non-negative number", name);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static void read_limits(lua_State *L, int t, orc_jsonata_limits *lim) {
  memset(lim, 0, sizeof *lim);
  if (lua_isnoneornil(L, t)) return;
  luaL_checktype(L, t, LUA_TTABLE);
  double d = opt_num(L, t, "max_depth");
  lim->max_depth = d > 100000 ? 100000 : (int)d;
  lim->max_steps = (int64_t)opt_num(L, t, "max_steps");
  lim->timeout_ms = opt_num(L, t, "timeout_ms");
  lim->now_ms = opt_num(L, t, "now_ms");
  lim->seed = (uint64_t)opt_num(L, t, "seed");
}

static orc_jsonata *compile(lua_State *L, int idx, int opts) {
  size_t len;
  const char *text = luaL_checklstring(L, idx, &len);
  int flags = 0;
  if (!lua_isnoneornil(L, opts)) {
    luaL_checktype(L, opts, LUA_TTABLE);
    lua_getfield(L, opts, "aws");
    if (lua_toboolean(L, -1)) flags |= ORC_JSONATA_AWS;
    lua_pop(L, 1);
  }
  lexpr *e = (lexpr *)lua_newuserdata(L, sizeof *e);
  e->x = NULL;
  luaL_getmetatable(L, JSONATA_MT);
  lua_setmetatable(L, -2);
  orc_jsonata_error err;
  if (orc_jsonata_compile(text, len, flags, &e->x, &err) != ORC_OK)
    raise(L, &err);
  return e->x;
}

/* Evaluate x on the value at in (none/nil: undefined) with the bindings
** table at bind and limits at lim [-0, +1, e] */
static int evaluate(lua_State *L, const orc_jsonata *x, int in, int bind,
                    int lim, int in_is_text) {
  char msg[256];
  orc_jsonata_limits limits;
  orc_jsonata_error err;
  read_limits(L, lim, &limits);
  jbox *b = (jbox *)lua_newuserdata(L, sizeof *b);
  b->in = b->bind = b->out = NULL;
  luaL_getmetatable(L, JBOX_MT);
  lua_setmetatable(L, -2);
  if (in_is_text) {
    size_t len;
    const char *text = luaL_checklstring(L, in, &len);
    orc_error jerr;
    if (orc_json_parse(text, len, NULL, &b->in, &jerr) != ORC_OK)
      return luaL_error(L, "jsonata: bad input: %s", jerr.message);
  } else if (!lua_isnoneornil(L, in)) {
    b->in = orcL_tojson(L, in, ORC_JSON_DEFAULT_MAX_DEPTH, msg, sizeof msg);
    if (!b->in) return luaL_error(L, "jsonata: bad input: %s", msg);
  }
  if (!lua_isnoneornil(L, bind)) {
    luaL_checktype(L, bind, LUA_TTABLE);
    b->bind = orcL_tojson(L, bind, ORC_JSON_DEFAULT_MAX_DEPTH, msg, sizeof msg);
    if (!b->bind) return luaL_error(L, "jsonata: bad bindings: %s", msg);
  }
  if (orc_jsonata_eval(x, b->in, b->bind, &limits, &b->out, &err) != ORC_OK)
    return raise(L, &err);
  if (!b->out) {
    lua_pushnil(L);
    return 1;
  }
  orcL_pushjson(L, b->out);
  orc_json_unref(b->out);
  b->out = NULL;
  return 1;
}

/* expr:evaluate(input [, bindings [, limits]]) -> value  [-0, +1, e] */
static int expr_evaluate(lua_State *L) {
  lexpr *e = (lexpr *)luaL_checkudata(L, 1, JSONATA_MT);
  if (!e->x) return luaL_error(L, "jsonata: expression is freed");
  lua_settop(L, 4);
  return evaluate(L, e->x, 2, 3, 4, 0);
}

/* expr:evaluate_json(text [, bindings [, limits]]) -> value: the input as
** JSON text, parsed in C, so that objects keep their members' order
** (a Lua table has none)  [-0, +1, e] */
static int expr_evaluate_json(lua_State *L) {
  lexpr *e = (lexpr *)luaL_checkudata(L, 1, JSONATA_MT);
  if (!e->x) return luaL_error(L, "jsonata: expression is freed");
  lua_settop(L, 4);
  return evaluate(L, e->x, 2, 3, 4, 1);
}

/* jsonata.compile(text [, {aws=}]) -> expression  [-0, +1, e] */
static int l_compile(lua_State *L) {
  compile(L, 1, 2);
  return 1;
}

/* jsonata.evaluate(text, input [, bindings [, opts]]) -> value [-0, +1, e] */
static int l_evaluate(lua_State *L) {
  lua_settop(L, 4); /* the expression's userdata goes above the arguments */
  orc_jsonata *x = compile(L, 1, 4);
  return evaluate(L, x, 2, 3, 4, 0);
}

void orcL_open_jsonata(lua_State *L) {
  static const luaL_Reg methods[] = {{"evaluate", expr_evaluate},
                                     {"evaluate_json", expr_evaluate_json},
                                     {NULL, NULL}};
  static const luaL_Reg fns[] = {
      {"compile", l_compile}, {"evaluate", l_evaluate}, {NULL, NULL}};
  luaL_newmetatable(L, JSONATA_MT);
  lua_newtable(L);
  orc_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, expr_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, JBOX_MT);
  lua_pushcfunction(L, jbox_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, JERR_MT);
  lua_pushcfunction(L, err_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_newtable(L);
  orc_setfuncs(L, fns, 0);
  lua_setfield(L, -2, "jsonata");
}
