/* benchclock: a monotonic wall clock for bench/run.lua (os.clock is CPU
** time). Built by `make bench` into build/bench/<lua>/benchclock.so; the
** benchmark falls back to os.clock, and says so, when it is missing. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include <lua.h>
#include <lauxlib.h>

/* now() -> seconds (float) since an arbitrary fixed point */
static int clock_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

int luaopen_benchclock(lua_State *L);

int luaopen_benchclock(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, clock_now);
  lua_setfield(L, -2, "now");
  return 1;
}
