/*
** The only file of the binding that tests LUA_VERSION_NUM. It adds small
** helpers under our own names and never (re)defines lua_* or luaL_*, so it
** cannot clash with what a Lua or LuaJIT release exports.
*/
#ifndef ORCHESTRA_COMPAT_H
#define ORCHESTRA_COMPAT_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h> /* LuaJIT names itself here (LUA_JITLIBNAME) */

#if LUA_VERSION_NUM < 502 /* PUC 5.1 and LuaJIT 2.1 */

#define orc_rawlen(L, i) lua_objlen(L, (i))

/* luaL_setfuncs: register r into the table below the nup upvalues. */
static inline void orc_setfuncs(lua_State *L, const luaL_Reg *r, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (; r->name != NULL; r++) {
    int i;
    for (i = 0; i < nup; i++)
      lua_pushvalue(L, -nup);
    lua_pushcclosure(L, r->func, nup);
    lua_setfield(L, -(nup + 2), r->name);
  }
  lua_pop(L, nup);
}

#define orc_checkversion(L) ((void)(L)) /* LuaJIT lacks luaL_checkversion */

#else

#define orc_rawlen(L, i) lua_rawlen(L, (i))
#define orc_setfuncs     luaL_setfuncs
#define orc_checkversion luaL_checkversion

#endif

#if LUA_VERSION_NUM >= 503
#define orc_isinteger(L, i) lua_isinteger(L, (i))
#else
#define orc_isinteger(L, i) 0 /* every number is a double */
#endif

#endif
