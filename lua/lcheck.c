/*
** Argument and option checks whose errors name the function the way the
** README writes it ("bad argument #1 to 'engine:task_success' (string
** expected, got nil)"), the same under every Lua: the name is upvalue 1 of
** the function's closure (orcL_setnamed), not what lua_getinfo guesses from
** the call site (5.1 and LuaJIT often say '?', and count self).
*/
#include <stdarg.h>
#include <string.h>

#include "lorchestra.h"

/* The running function's name ("engine:load", "orchestra.engine"), or "?"
** for a function registered without one. */
static const char *fn_name(lua_State *L) {
  const char *name = NULL;
  if (lua_type(L, lua_upvalueindex(1)) == LUA_TSTRING)
    name = lua_tostring(L, lua_upvalueindex(1));
  return name ? name : "?";
}

/* Methods count their arguments after self, as the call reads. */
static int is_method(const char *name) {
  return strchr(name, ':') != NULL;
}

void orcL_setnamed(lua_State *L, const luaL_Reg *r, const char *prefix) {
  for (; r->name != NULL; r++) {
    lua_pushstring(L, prefix);
    lua_pushstring(L, r->name);
    lua_concat(L, 2);
    lua_pushcclosure(L, r->func, 1);
    lua_setfield(L, -2, r->name);
  }
}

int orcL_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  luaL_where(L, 1);
  lua_pushstring(L, fn_name(L));
  lua_pushliteral(L, ": ");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 4);
  return lua_error(L);
}

int orcL_argerror(lua_State *L, int arg, const char *msg) {
  const char *name = fn_name(L);
  if (is_method(name)) {
    if (arg == 1)
      return luaL_error(L, "calling '%s' on bad self (%s)", name, msg);
    arg--;
  }
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, name, msg);
}

int orcL_typeerror(lua_State *L, int arg, const char *expected) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected,
                                    luaL_typename(L, arg));
  return orcL_argerror(L, arg, msg);
}

const char *orcL_checklstring(lua_State *L, int arg, size_t *len) {
  const char *s;
  if (lua_type(L, arg) != LUA_TSTRING && lua_type(L, arg) != LUA_TNUMBER)
    orcL_typeerror(L, arg, "string");
  s = lua_tolstring(L, arg, len);
  return s;
}

const char *orcL_optstring(lua_State *L, int arg, const char *def) {
  if (lua_isnoneornil(L, arg)) return def;
  return orcL_checklstring(L, arg, NULL);
}

void orcL_checktype(lua_State *L, int arg, int t) {
  if (lua_type(L, arg) != t) orcL_typeerror(L, arg, lua_typename(L, t));
}

void *orcL_checkudata(lua_State *L, int arg, const char *tname) {
  void *p = lua_touserdata(L, arg);
  if (p != NULL && lua_getmetatable(L, arg)) {
    int same;
    luaL_getmetatable(L, tname);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (same) return p;
  }
  orcL_typeerror(L, arg, tname);
  return NULL;
}

/* {====== option tables */

/* Levenshtein distance of a and b, capped: enough to suggest a near name. */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), i, j;
  size_t row[64];
  if (la >= 63 || lb >= 63) return 99;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

void orcL_checkoptions(lua_State *L, int t, const char *const *known) {
  t = t < 0 && t > LUA_REGISTRYINDEX ? lua_gettop(L) + t + 1 : t;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    const char *key;
    size_t i, best = 99, near = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      orcL_error(L, "option names are strings, not %s", luaL_typename(L, -1));
    }
    key = lua_tostring(L, -1);
    for (i = 0; known[i] != NULL; i++) {
      size_t d;
      if (strcmp(key, known[i]) == 0) break;
      d = distance(key, known[i]);
      if (d < best) best = d, near = i;
    }
    if (known[i] != NULL) continue;
    if (best <= 2)
      orcL_error(L, "unknown option '%s' (did you mean '%s'?)", key,
                 known[near]);
    {
      luaL_Buffer B;
      luaL_buffinit(L, &B);
      for (i = 0; known[i] != NULL; i++) {
        if (i) luaL_addstring(&B, ", ");
        luaL_addstring(&B, known[i]);
      }
      luaL_pushresult(&B);
      orcL_error(L, "unknown option '%s' (known: %s)", key,
                 lua_tostring(L, -1));
    }
  }
}

const char *orcL_optfield_string(lua_State *L, int t, const char *field) {
  const char *s = NULL;
  lua_getfield(L, t, field);
  if (lua_type(L, -1) == LUA_TSTRING)
    s = lua_tostring(L, -1);
  else if (!lua_isnil(L, -1))
    orcL_error(L, "option '%s' must be a string, not %s", field,
               luaL_typename(L, -1));
  lua_pop(L, 1); /* the string stays alive: the table holds it */
  return s;
}

/* }====== */
