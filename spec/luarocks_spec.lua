-- `luarocks make` as the README's install section says, for the Lua running
-- this spec (make test runs it under 5.4, 5.1 and LuaJIT), into a tree of
-- its own with the network blocked: it installs exactly the Lua modules,
-- the C module and the command, leaves no build products among the
-- sources, and the tree alone runs it. A module built for another Lua
-- fails with a sentence that says so.
local h = require "spec.helper"
local q = h.shell_quote

-- The Lua files under lua/ (module name -> path), as the rockspec must
-- install them.
local function lua_modules()
  local list = {}
  local p = io.popen("cd " .. q(h.ROOT) .. " && ls lua/*.lua lua/orchestra/*.lua")
  for path in p:lines() do
    list[path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", ".")] = path
  end
  p:close()
  return list
end

local function rockspec_install_lua()
  local text = h.read(h.ROOT .. "/rockspec/orchestra-scm-1.rockspec")
  local block = text:match("install%s*=%s*{%s*lua%s*=%s*(%b{})")
  local list = {}
  for name, path in block:gmatch('%["([^"]+)"%]%s*=%s*"([^"]+)"') do
    -- data files (the price catalog) ride along under a module-like name
    if path:match("%.lua$") then list[name] = path end
  end
  return list
end

local function files(dir)
  local list = {}
  local p = io.popen("cd " .. q(dir) .. " && find . -type f | sort")
  for line in p:lines() do list[#list + 1] = line:gsub("^%./", "") end
  p:close()
  return list
end

describe("LuaRocks packaging", function()
  it("installs every Lua module under lua/ and nothing else", function()
    assert.same(lua_modules(), rockspec_install_lua())
  end)

  it("installs as the README says into a temporary tree offline, and the tree alone runs it", function()
    local dir = h.tmpdir()
    local version = h.LUA == "luajit" and "5.1" or h.LUA:match("%d%.%d")
    local interp = "/usr/bin/" .. h.LUA
    -- a copy of the checkout's sources, to see what the build leaves there
    assert.equal(0, (h.run("cd " .. q(h.ROOT) .. " && tar cf - CMakeLists.txt core lua bin rockspec data"
      .. " | (cd " .. q(dir) .. " && tar xf -)", true)))
    local before = files(dir)
    -- the README's commands (LuaJIT: its config file)
    local config = h.LUA == "luajit" and "LUAROCKS_CONFIG=rockspec/luajit-config.lua " or ""
    -- any attempt to reach the network goes to a closed local port
    local status, out, err = h.run("cd " .. q(dir) .. " && " .. config
      .. "http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 "
      .. "luarocks --lua-version " .. version
      .. " make rockspec/orchestra-scm-1.rockspec --tree " .. q(dir .. "/tree"), true)
    assert.equal(0, status, out .. err)
    assert.matches("orchestra scm%-1 is now installed", out)

    -- the sources are as they were: the build happened in build.luarocks/
    local after = {}
    for _, f in ipairs(files(dir)) do
      if not f:match("^build%.luarocks/") and not f:match("^tree/") then after[#after + 1] = f end
    end
    assert.same(before, after)

    -- exactly the modules, the C module and the command
    local tree = dir .. "/tree"
    local installed = {}
    for _, f in ipairs(files(tree)) do
      if not f:match("^lib/luarocks/") then installed[#installed + 1] = f end
    end
    local expected = { "bin/orchestra", "lib/lua/" .. version .. "/orchestra/core.so",
      "share/lua/" .. version .. "/orchestra/prices.json" }
    for name in pairs(lua_modules()) do
      expected[#expected + 1] = "share/lua/" .. version .. "/" .. name:gsub("%.", "/") .. ".lua"
    end
    table.sort(expected)
    assert.same(expected, installed)

    local script = [[
package.path = "@TREE@/share/lua/@VER@/?.lua;@TREE@/share/lua/@VER@/?/init.lua"
package.cpath = "@TREE@/lib/lua/@VER@/?.so"
local o = require "orchestra"
local text = o.json.encode(o.json.decode('{"a":[1,2.5,null,{}],"b":[]}'))
io.write(o.VERSION, " ", o.built_for, " ", text, "\n")
-- the price catalog installed next to orchestra/cost.lua
io.write(o.cost.catalog_path(), " ", o.cost.catalog():standard(1000), "\n")
]]
    script = script:gsub("@TREE@", tree):gsub("@VER@", version)
    h.write(dir .. "/check.lua", script)
    status, out, err = h.run("cd / && env -i PATH=/usr/bin:/bin " .. interp .. " "
      .. q(dir .. "/check.lua"), true)
    assert.equal(0, status, err)
    local built_for = h.LUA == "luajit" and "LuaJIT" or ("Lua " .. version)
    assert.equal(require("orchestra").VERSION .. " " .. built_for
      .. ' {"a":[1,2.5,null,{}],"b":[]}\n'
      .. tree .. "/share/lua/" .. version .. "/orchestra/prices.json 0.025\n", out)

    status, out, err = h.run("cd / && env -i PATH=/usr/bin:/bin "
      .. q(tree .. "/bin/orchestra") .. " --version", true)
    assert.equal(0, status, err)
    assert.equal("orchestra " .. require("orchestra").VERSION .. " (" .. built_for .. ")\n", out)

    -- another Lua finding this module says what is wrong and how to fix it
    local other = h.LUA == "lua5.4" and "lua5.1" or "lua5.4"
    local other_name = other == "lua5.4" and "Lua 5.4" or "Lua 5.1"
    status, out, err = h.run("cd / && env -i PATH=/usr/bin:/bin " .. other .. " "
      .. q(dir .. "/check.lua"), true)
    assert.equal(1, status)
    assert.equal("", out)
    assert.matches("orchestra: the C module orchestra.core that " .. other_name
      .. " found was built for another Lua %(.*undefined symbol: lua.*%)%. Install orchestra for "
      .. other_name .. " %(luarocks %-%-lua%-version " .. other:match("%d%.%d")
      .. " make rockspec/orchestra%-scm%-1%.rockspec%) or run it with the Lua it was built for%.", err)
    -- and the command says it in one line, exit 70, no traceback
    local script_path = "rocks-" .. version .. "/orchestra/scm-1/bin/orchestra"
    status, out, err = h.run("cd / && env -i PATH=/usr/bin:/bin LUA_PATH="
      .. q(tree .. "/share/lua/" .. version .. "/?.lua") .. " LUA_CPATH="
      .. q(tree .. "/lib/lua/" .. version .. "/?.so") .. " " .. other .. " "
      .. q(tree .. "/lib/luarocks/" .. script_path) .. " --version", true)
    assert.equal(70, status)
    assert.equal("", out)
    assert.matches("^orchestra: the C module orchestra.core that " .. other_name
      .. " found was built for another Lua %(.*%)%. Install orchestra for .*\n$", err)
    assert.is_nil(err:find("traceback", 1, true))
    h.run("rm -rf " .. q(dir), true)
  end)
end)
