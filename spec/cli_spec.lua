local h = require "spec.helper"
local orchestra = require "orchestra"

describe("bin/orchestra", function()
  it("prints its version", function()
    local status, out, err = h.orchestra("--version")
    assert.equal(0, status)
    assert.equal("", err)
    assert.equal("orchestra " .. orchestra.VERSION .. " (" .. orchestra.built_for .. ")\n", out)
    assert.equal(0, (h.orchestra("-V")))
  end)

  it("prints help on stdout with --help", function()
    local status, out = h.orchestra("--help")
    assert.equal(0, status)
    assert.matches("^usage: orchestra", out)
    for _, cmd in ipairs({ "run", "validate", "graph", "cost" }) do
      assert.matches("\n  " .. cmd .. " ", out)
    end
  end)

  it("prints usage on stderr and exits 64 without arguments", function()
    local status, out, err = h.orchestra("")
    assert.equal(64, status)
    assert.equal("", out)
    assert.matches("^usage: orchestra", err)
  end)

  for cmd, why in pairs({ run = "the state machine executor",
                          validate = "definition loading and validation",
                          graph = "state machine graphs",
                          cost = "the cost model" }) do
    it("says '" .. cmd .. "' is not available yet and exits 64", function()
      local status, out, err = h.orchestra(cmd .. " def.json")
      assert.equal(64, status)
      assert.equal("", out)
      assert.equal("orchestra: '" .. cmd .. "' is not available yet: it arrives with "
        .. why .. "\n", err)
    end)
  end

  it("rejects unknown commands and options", function()
    local status, out, err = h.orchestra("frobnicate")
    assert.equal(64, status)
    assert.equal("", out)
    assert.equal("orchestra: unknown command 'frobnicate' (see orchestra --help)\n", err)
    status, _, err = h.orchestra("--frob")
    assert.equal(64, status)
    assert.equal("orchestra: unknown option '--frob' (see orchestra --help)\n", err)
  end)
end)
