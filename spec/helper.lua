-- Shared by every spec (loaded through .busted's `helper`).
-- Tells specs which Lua runs them and which build directory holds the
-- module, so that sub-processes (the CLI, examples, hosts) use the same.
local M = {}

local function lua_tag()
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

M.ROOT = os.getenv("PWD") or "."
M.LUA = os.getenv("ORCHESTRA_TEST_LUA") or lua_tag()
M.BUILD = os.getenv("ORCHESTRA_TEST_BUILD") or ("build/" .. M.LUA)
M.BUILD_ROOT = M.BUILD:match("^(.*)/[^/]+$") or "build"

--- Quote s for /bin/sh.
function M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Environment prefix that makes `lua` find this checkout's modules.
function M.lua_env(build)
  build = build or M.BUILD
  return string.format("LUA_PATH=%s LUA_CPATH=%s ",
    M.shell_quote(M.ROOT .. "/lua/?.lua;" .. M.ROOT .. "/lua/?/init.lua;;"),
    M.shell_quote(M.ROOT .. "/" .. build .. "/?.so;;"))
end

--- Run a shell command; returns exit status, stdout, stderr.
-- With `plain` set the command runs without LD_PRELOAD (the sanitizer
-- runtimes that `make test-asan` preloads for Lua hang some programs).
function M.run(cmd, plain)
  local out, err = os.tmpname(), os.tmpname()
  if plain then cmd = "env -u LD_PRELOAD sh -c " .. M.shell_quote(cmd) end
  local ok, _, code = os.execute(cmd .. " >" .. out .. " 2>" .. err)
  local status
  if type(ok) == "number" then          -- Lua 5.1: os.execute returns status
    status = ok >= 256 and math.floor(ok / 256) or ok
  else
    status = code
  end
  local function slurp(p)
    local f = assert(io.open(p, "rb"))
    local s = f:read("*a")
    f:close()
    os.remove(p)
    return s
  end
  return status, slurp(out), slurp(err)
end

--- Run `orchestra ARGS` with this spec run's Lua; returns status, out, err.
function M.orchestra(args)
  return M.run(M.lua_env() .. M.LUA .. " " .. M.ROOT .. "/bin/orchestra " .. args)
end

--- Read a file whole.
function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- Write a file.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- A fresh temporary directory.
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. M.shell_quote(p)))
  return p
end

--- Whether a command exists on PATH.
function M.have(cmd)
  return M.run("command -v " .. cmd) == 0
end

package.loaded["spec.helper"] = M
_G.test_helper = M
return M
