/*
** luaopen_orchestra_core: the C module under the pure-Lua front
** lua/orchestra.lua. Only this function is exported.
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <time.h>

#include "lorchestra.h"

#if defined(__GNUC__)
#define ORCL_EXPORT __attribute__((visibility("default")))
#else
#define ORCL_EXPORT
#endif

ORCL_EXPORT int luaopen_orchestra_core(lua_State *L);

/* orchestra.monotonic() -> seconds on a clock that never jumps (for timing
** steps and frames; unrelated to the engines' clocks) */
static int l_monotonic(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

int luaopen_orchestra_core(lua_State *L) {
  /* A module built for another Lua fails here with a clear message rather
  ** than corrupting the host's state later. */
  orc_checkversion(L);
  if (orc_version_num() != ORC_VERSION_NUM)
    return luaL_error(L,
                      "orchestra.core was built for core %d but links core "
                      "%d",
                      ORC_VERSION_NUM, orc_version_num());
  /* orc_global_init (libcurl, TLS: ~7 MB resident) waits for the first
  ** HTTP call: most hosts never make one */
  lua_newtable(L);
  lua_pushstring(L, orc_version());
  lua_setfield(L, -2, "version");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
#if defined(LUAJIT_VERSION) || defined(LUA_JITLIBNAME)
  lua_pushliteral(L, "LuaJIT");
#else
  lua_pushliteral(L, LUA_VERSION);
#endif
  lua_setfield(L, -2, "built_for");
  orcL_open_json(L);
  orcL_open_engine(L);
  orcL_open_agent(L);
  orcL_open_cost(L);
  orcL_open_jsonata(L);
  lua_pushcfunction(L, l_monotonic);
  lua_setfield(L, -2, "monotonic");
  return 1;
}
