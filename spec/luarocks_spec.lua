-- `luarocks make` installs the module, the pure-Lua files and the CLI into a
-- tree, offline, for the Lua running this spec; a clean interpreter that
-- knows only that tree then loads it.
local h = require "spec.helper"
local q = h.shell_quote

local function rockspec_sources()
  local text = h.read(h.ROOT .. "/rockspec/orchestra-scm-1.rockspec")
  local block = text:match("sources%s*=%s*(%b{})")
  local list = {}
  for s in block:gmatch('"([^"]+)"') do list[#list + 1] = s end
  table.sort(list)
  return list
end

local function tree_sources()
  local list = {}
  local p = io.popen("cd " .. q(h.ROOT) .. " && ls core/src/*.c lua/*.c")
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  table.sort(list)
  return list
end

describe("LuaRocks packaging", function()
  it("lists exactly core/src/*.c and lua/*.c as the module's sources", function()
    assert.same(tree_sources(), rockspec_sources())
  end)

  it("installs into a temporary tree offline, and the tree alone runs it", function()
    local dir = h.tmpdir()
    local version = h.LUA == "luajit" and "5.1" or h.LUA:match("%d%.%d")
    local interp = "/usr/bin/" .. h.LUA
    -- build from a copy: the builtin backend writes objects next to sources
    assert.equal(0, (h.run("cd " .. q(h.ROOT) .. " && tar cf - core lua bin rockspec data"
      .. " | (cd " .. q(dir) .. " && tar xf -)", true)))
    local config = ""
    if h.LUA == "luajit" then
      h.write(dir .. "/luajit-config.lua", [[
rocks_trees = {}
lua_interpreter = "luajit"
variables = { LUA_DIR = "/usr", LUA_BINDIR = "/usr/bin",
              LUA_INCDIR = "/usr/include/luajit-2.1" }
]])
      config = "LUAROCKS_CONFIG=" .. q(dir .. "/luajit-config.lua") .. " "
    end
    -- any attempt to reach the network goes to a closed local port
    local status, out, err = h.run("cd " .. q(dir) .. " && " .. config
      .. "http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 "
      .. "luarocks --lua-version=" .. version
      .. " make rockspec/orchestra-scm-1.rockspec --tree=" .. q(dir .. "/tree"), true)
    assert.equal(0, status, out .. err)
    assert.matches("orchestra scm%-1 is now installed", out)

    local tree = dir .. "/tree"
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
    h.run("rm -rf " .. q(dir), true)
  end)
end)
