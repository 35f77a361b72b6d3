-- `make demo` (#9): installs and builds only what the demo needs and
-- prints only the demo's output.
local h = require "spec.helper"
local q = h.shell_quote

describe("make demo", function()
  it("needs only Lua 5.4 and the build tools", function()
    local status, out = h.run("sh " .. q(h.ROOT .. "/tools/deps.sh") .. " --list demo", true)
    assert.equal(0, status)
    local demo = {}
    for p in out:gmatch("%S+") do demo[#demo + 1] = p end
    table.sort(demo)
    assert.same({ "build-essential", "cmake", "libcjson-dev", "libcurl4-openssl-dev",
      "liblua5.4-dev", "libpcre2-dev", "libssl-dev", "lua5.4", "pkg-config" }, demo)
    -- the test set is a superset with the test tools
    status, out = h.run("sh " .. q(h.ROOT .. "/tools/deps.sh") .. " --list test", true)
    assert.equal(0, status)
    local test = {}
    for p in out:gmatch("%S+") do test[p] = true end
    for _, p in ipairs(demo) do assert.is_true(test[p], p) end
    for _, p in ipairs({ "neovim", "lighttpd", "graphviz", "nodejs", "npm", "clang-format", "luarocks" }) do
      assert.is_true(test[p], p)
    end
  end)

  it("builds the module only, not the C tests", function()
    local status, out = h.run("cd " .. q(h.ROOT) .. " && make -n demo BUILD=/nonexistent-build", true)
    assert.equal(0, status)
    assert.matches("tools/deps.sh demo", out, 1, true)
    assert.matches("--target orchestra_lua", out, 1, true)
    assert.is_nil(out:find("build-lua5.4", 1, true))
  end)

  it("prints the demo's output and nothing else", function()
    if h.LUA ~= "lua5.4" then return end -- the demo runs Lua 5.4; once is enough
    -- as a user types it: not inside another make (make test), whose
    -- MAKELEVEL would make this one print its directory
    local status, out, err = h.run("cd " .. q(h.ROOT) .. " && env -u MAKELEVEL -u MAKEFLAGS "
      .. "-u MFLAGS make demo BUILD=" .. q(h.BUILD_ROOT), true)
    assert.equal(0, status, err)
    assert.equal("", err)
    -- hybrid runs (an agent with a workflow as a tool; a workflow calling
    -- bedrock:invokeModel answered by a scripted model): their traces and
    -- token usage; then the order workflow, ending with its cost and a
    -- comparison with an agent doing the same job (#11)
    assert.equal(h.read(h.ROOT .. "/spec/fixtures/examples/hybrid_agent_uses_workflow.out") .. "\n" ..
      h.read(h.ROOT .. "/spec/fixtures/examples/hybrid_invoke_model.out") .. "\n" ..
      h.read(h.ROOT .. "/spec/fixtures/examples/order_flow.out"), out)
    assert.matches("== cost of order A%-1001: 8 billed transitions.*an agent, 5 steps.*break%-even", out)
  end)
end)
