-- The module inside real Lua hosts, not only the standalone interpreters:
-- Neovim (LuaJIT) and lighttpd's mod_magnet (Lua 5.4 inside a plugin, which
-- only works when the module takes the Lua API from its host).
local h = require "spec.helper"
local q = h.shell_quote

local ROUNDTRIP = '{"host":"HOST","n":[1,2.5,null],"o":{}}'

describe("#hosts the module", function()
  it("exports only luaopen_orchestra_core and does not link liblua", function()
    local so = h.ROOT .. "/" .. h.BUILD .. "/orchestra/core.so"
    local status, out = h.run("ldd " .. q(so))
    assert.equal(0, status)
    assert.is_nil(out:match("liblua"), out)
    assert.is_nil(out:match("libluajit"), out)
    status, out = h.run("nm -D --defined-only " .. q(so)
      .. " | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^_'")
    assert.equal(0, status)
    assert.equal("luaopen_orchestra_core\n", out)
  end)

  describe("inside Neovim (headless, LuaJIT)", function()
    local build = h.BUILD_ROOT .. "/luajit"

    local function nvim(body)
      local dir = h.tmpdir()
      local script = string.format([[
package.path = %q .. package.path
package.cpath = %q .. package.cpath
local ok, err = pcall(function()
%s
end)
if ok then
  vim.cmd("qall!")
else
  io.stderr:write(tostring(err), "\n")
  vim.cmd("cquit 3")
end
]], h.ROOT .. "/lua/?.lua;", h.ROOT .. "/" .. build .. "/?.so;", body)
      h.write(dir .. "/t.lua", script)
      local status, out, err = h.run("cd " .. q(dir) .. " && timeout 60 "
        .. "nvim --headless --clean -u NONE -i NONE -c 'luafile t.lua'", true)
      return status, out, err, dir
    end

    it("requires orchestra and round-trips JSON", function()
      assert.is_true(h.have("nvim"), "nvim is not installed (package neovim)")
      local text = ROUNDTRIP:gsub("HOST", "nvim")
      local status, _, err, dir = nvim(string.format([[
local o = require "orchestra"
local text = o.json.encode(o.json.decode(%q))
local f = assert(io.open("result.txt", "w"))
f:write(o.built_for, " ", text)
f:close()
]], text))
      assert.equal(0, status, err)
      assert.equal("LuaJIT " .. text, h.read(dir .. "/result.txt"))
    end)

    it("reports a failing script through its exit status", function()
      local status = nvim([[require "orchestra.no_such_module"]])
      assert.equal(3, status)
    end)
  end)

  describe("inside lighttpd's mod_magnet (Lua 5.4 in a plugin)", function()
    local build = h.BUILD_ROOT .. "/lua5.4"

    it("requires orchestra and round-trips JSON per request", function()
      assert.is_true(h.have("lighttpd"), "lighttpd is not installed (packages lighttpd, lighttpd-modules-lua)")
      assert.is_true(h.have("curl"), "curl is not installed")
      local dir = h.tmpdir()
      local text = ROUNDTRIP:gsub("HOST", "lighttpd")
      h.write(dir .. "/magnet.lua", string.format([[
package.path = %q .. package.path
package.cpath = %q .. package.cpath
local ok, res = pcall(function()
  local o = require "orchestra"
  return o.built_for .. " " .. o.json.encode(o.json.decode(%q))
end)
lighty.r.resp_header["Content-Type"] = "text/plain"
lighty.r.resp_body:set({ tostring(res) })
return ok and 200 or 500
]], h.ROOT .. "/lua/?.lua;", h.ROOT .. "/" .. build .. "/?.so;", text))
      -- a free port: try a few until lighttpd binds one
      math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 1000)
      local body, code
      for _ = 1, 5 do
        local port = math.random(20000, 60000)
        h.write(dir .. "/lighttpd.conf", string.format([[
server.document-root = %q
server.bind = "127.0.0.1"
server.port = %d
server.modules = ( "mod_magnet" )
magnet.attract-raw-url-to = ( %q )
server.errorlog = %q
]], dir, port, dir .. "/magnet.lua", dir .. "/error.log"))
        local status, out = h.run(table.concat({
          "cd " .. q(dir),
          "(lighttpd -D -f lighttpd.conf & echo $! > pid)",
          "for i in $(seq 1 50); do curl -s --max-time 10 -o body -w '%{http_code}' http://127.0.0.1:"
            .. port .. "/roundtrip > code && [ \"$(cat code)\" != 000 ] && break; sleep 0.1; done",
          "kill $(cat pid) 2>/dev/null; wait 2>/dev/null; cat code",
        }, "; "), true)
        if status == 0 and out ~= "000" and out ~= "" then
          code = out
          body = h.read(dir .. "/body")
          break
        end
      end
      assert.is_not_nil(code, "lighttpd did not answer: " .. (io.open(dir .. "/error.log")
        and h.read(dir .. "/error.log") or "no error log"))
      assert.equal("200", code, body)
      assert.equal("Lua 5.4 " .. text, body)
      h.run("rm -rf " .. q(dir))
    end)
  end)
end)
