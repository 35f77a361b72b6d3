-- JSONata judged by its own test suite: every case of jsonata-js's
-- test/test-suite (copied with its licence into spec/fixtures/jsonata) runs
-- through orchestra.jsonata, one `it` per group. A group passes when every
-- case passes except those listed in spec/fixtures/jsonata-known.lua (cases
-- still to do, each with the group's reason); a listed case that starts
-- passing fails the group too, so the list only shrinks. Pass counts per
-- group are printed at the end.
package.path = "spec/support/?.lua;" .. package.path
local suite = require "jsonata_suite"
local known = dofile("spec/fixtures/jsonata-known.lua")

describe("JSONata test suite", function()
  local groups, order = {}, {}
  for _, e in ipairs(suite.cases()) do
    local g = groups[e.group]
    if not g then
      g = {}
      groups[e.group] = g
      order[#order + 1] = e.group
    end
    g[#g + 1] = e
  end
  local counts = {}

  for _, name in ipairs(order) do
    it("group " .. name, function()
      local pass, skipped, knownfail, bad = 0, 0, 0, {}
      for _, e in ipairs(groups[name]) do
        local ok, why = suite.run(e)
        if ok == nil then
          skipped = skipped + 1
        elseif ok then
          pass = pass + 1
          if known.cases[e.id] then
            bad[#bad + 1] = e.id .. " passes now: remove it from jsonata-known.lua"
          end
        elseif known.cases[e.id] then
          knownfail = knownfail + 1
        else
          bad[#bad + 1] = e.id .. ": " .. e.case.expr .. " => " .. tostring(why)
        end
      end
      counts[#counts + 1] = { name, pass, #groups[name] - skipped, knownfail, skipped }
      assert(#bad == 0, table.concat(bad, "\n"))
    end)
  end

  teardown(function()
    local tp, tn, tk, ts = 0, 0, 0, 0
    local lines = { "", "JSONata test suite: passed/cases per group" }
    for _, c in ipairs(counts) do
      tp, tn, tk, ts = tp + c[2], tn + c[3], tk + c[4], ts + c[5]
      local note = ""
      if c[4] > 0 then note = string.format("  (%d known remaining: %s)", c[4], known.groups[c[1]] or "") end
      if c[5] > 0 then note = note .. string.format("  (%d skipped: lone UTF-16 surrogates)", c[5]) end
      lines[#lines + 1] = string.format("  %-30s %4d/%-4d%s", c[1], c[2], c[3], note)
    end
    lines[#lines + 1] = string.format("  total %d/%d passed, %d known remaining, %d skipped", tp, tn, tk, ts)
    io.stderr:write(table.concat(lines, "\n"), "\n")
  end)
end)
