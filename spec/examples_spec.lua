-- Every example under examples/ runs, exits 0 and prints its golden output
-- (spec/fixtures/examples/<name>.out).
local h = require "spec.helper"

local function list_examples()
  local names = {}
  local p = io.popen("ls " .. h.ROOT .. "/examples/*.lua")
  for line in p:lines() do
    names[#names + 1] = line:match("([^/]+)%.lua$")
  end
  p:close()
  table.sort(names)
  return names
end

describe("examples", function()
  local names = list_examples()

  it("exist", function()
    assert.is_true(#names > 0)
  end)

  for _, name in ipairs(names) do
    it(name .. " runs and prints its golden output", function()
      local golden = h.ROOT .. "/spec/fixtures/examples/" .. name .. ".out"
      local f = io.open(golden)
      assert.is_not_nil(f, "missing golden output " .. golden)
      f:close()
      local status, out, err = h.run(h.lua_env() .. h.LUA .. " "
        .. h.ROOT .. "/examples/" .. name .. ".lua")
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(h.read(golden), out)
    end)
  end
end)
