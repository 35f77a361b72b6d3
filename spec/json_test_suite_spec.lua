-- The decoder against JSONTestSuite's test_parsing corpus
-- (spec/fixtures/JSONTestSuite, nst/JSONTestSuite, MIT): every y_ text is
-- accepted, every n_ text rejected with a located error, and an i_ text
-- either, never a crash.
local h = require "spec.helper"
local json = require("orchestra").json

local DIR = h.ROOT .. "/spec/fixtures/JSONTestSuite/test_parsing/"

local function list()
  local names = {}
  local p = io.popen("ls " .. h.shell_quote(DIR))
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  table.sort(names)
  return names
end

describe("JSONTestSuite test_parsing", function()
  local names = list()

  it("holds the whole corpus", function()
    local count = { y = 0, n = 0, i = 0 }
    for _, name in ipairs(names) do
      local k = name:sub(1, 1)
      count[k] = count[k] + 1
    end
    assert.same({ y = 95, n = 188, i = 35 }, count)
  end)

  for _, name in ipairs(names) do
    local kind = name:sub(1, 1)
    it(name, function()
      local text = h.read(DIR .. name)
      -- the corpus nests up to 500 deep (i_structure_500_nested_arrays)
      local ok, err = pcall(json.decode, text, { max_depth = 1000 })
      if kind == "y" then
        assert.is_true(ok, tostring(err))
        -- what decodes encodes and decodes again to the same value
        local again = json.decode(json.encode(err))
        assert.same(err, again)
      elseif kind == "n" then
        assert.is_false(ok, "accepted: " .. text)
        assert.matches("^invalid JSON at byte %d+ %(line %d+, column %d+%): ", err)
      else
        assert.is_true(ok or err:match("^invalid JSON at byte %d+") ~= nil, tostring(err))
      end
    end)
  end
end)
