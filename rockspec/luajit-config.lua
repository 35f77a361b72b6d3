-- LuaRocks configuration for installing orchestra for LuaJIT 2.1 on Debian
-- (LuaRocks treats LuaJIT as Lua 5.1 and would pick lua5.1's headers and
-- interpreter):
--   LUAROCKS_CONFIG=rockspec/luajit-config.lua luarocks --lua-version 5.1 \
--     make rockspec/orchestra-scm-1.rockspec --tree DIR
lua_interpreter = "luajit"
variables = {
  LUA_DIR = "/usr",
  LUA_BINDIR = "/usr/bin",
  LUA_INCDIR = "/usr/include/luajit-2.1",
}
