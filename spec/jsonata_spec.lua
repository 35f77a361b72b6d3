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

describe("orchestra.jsonata", function()
  local orchestra = require "orchestra"
  local jsonata = orchestra.jsonata

  it("compiles once and evaluates many inputs", function()
    local x = jsonata.compile("$sum(items.(price * qty))")
    assert.equal(10, x:evaluate({ items = { { price = 2.5, qty = 4 } } }))
    assert.equal(7, x:evaluate({ items = { { price = 1, qty = 3 }, { price = 2, qty = 2 } } }))
    assert.is_nil(x:evaluate({ other = 1 })) -- $sum(undefined) is undefined
  end)

  it("returns nil for undefined and orchestra.null for null", function()
    assert.is_nil(jsonata.evaluate("missing", { a = 1 }))
    assert.equal(orchestra.null, jsonata.evaluate("a", { a = orchestra.null }))
    assert.is_nil(jsonata.evaluate("$"))
  end)

  it("gives arrays the array marker and keeps member order from JSON text", function()
    local r = jsonata.evaluate("[1..3]")
    assert.same({ 1, 2, 3 }, r)
    assert.equal(orchestra.array_mt, getmetatable(r))
    local x = jsonata.compile("$keys($)")
    assert.same({ "z", "a", "m" }, x:evaluate_json('{"z":1,"a":2,"m":3}'))
  end)

  it("binds variables", function()
    assert.equal(42, jsonata.evaluate("$x * $y", nil, { x = 6, y = 7 }))
    assert.equal("hi Ann", jsonata.evaluate("'hi ' & $n", {}, { n = "Ann" }))
  end)

  it("raises errors as tables with the JSONata code, position and message", function()
    local ok, err = pcall(jsonata.evaluate, "1 + 'a'")
    assert.is_false(ok)
    assert.equal("T2002", err.code)
    assert.equal(3, err.position)
    assert.equal("+", err.token)
    assert.matches("right side of the %+ operator must evaluate to a number", err.message)
    assert.matches("^T2002: ", tostring(err))
    ok, err = pcall(jsonata.compile, "Account.(")
    assert.is_false(ok)
    assert.equal("S0203", err.code)
    ok, err = pcall(jsonata.evaluate, "$error('stop')")
    assert.equal("D3137", err.code)
    assert.equal("stop", err.message)
  end)

  it("bounds runaway expressions by depth, steps and time", function()
    local ok, err = pcall(jsonata.evaluate, "($f := function($n){ $n + $f($n) }; $f(1))", nil, nil,
      { max_depth = 100 })
    assert.is_false(ok)
    assert.equal("D1011", err.code)
    ok, err = pcall(jsonata.evaluate, "($f := function(){ $f() }; $f())", nil, nil, { max_steps = 50000 })
    assert.equal("D1012", err.code)
    ok, err = pcall(jsonata.evaluate, "($f := function(){ $f() }; $f())", nil, nil, { timeout_ms = 20 })
    assert.equal("D1012", err.code)
  end)

  it("offers Step Functions' extension functions only when asked", function()
    local ok, err = pcall(jsonata.evaluate, "$partition([1,2,3], 2)")
    assert.is_false(ok)
    assert.equal("T1006", err.code)
    local aws = { aws = true }
    assert.same({ { 1, 2 }, { 3 } }, jsonata.evaluate("$partition([1,2,3], 2)", nil, nil, aws))
    assert.same({ 1, 3, 5 }, jsonata.evaluate("$range(1, 5, 2)", nil, nil, aws))
    assert.equal(1, jsonata.evaluate("$range(1, 1)", nil, nil, aws))
    assert.equal("900150983cd24fb0d6963f7d28e17f72", jsonata.evaluate("$hash('abc', 'MD5')", nil, nil, aws))
    assert.same({ a = { 1, 2 } }, jsonata.evaluate("$parse('{\"a\":[1,2]}')", nil, nil, aws))
    assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", jsonata.evaluate("$uuid()", nil, nil, aws))
    assert.equal(jsonata.evaluate("$random(3)", nil, nil, aws), jsonata.evaluate("$random(3)", nil, nil, aws))
    -- AWS's $random(seed) is java.util.Random(seed).nextDouble()
    assert.equal(0.7275636800328681, jsonata.evaluate("$random(42)", nil, nil, aws))
    ok, err = pcall(jsonata.evaluate, "$partition('x', 2)", nil, nil, aws)
    assert.is_false(ok)
    assert.matches("partition", err.message)
    ok, err = pcall(jsonata.evaluate, "$hash('x', 'SHA-3')", nil, nil, aws)
    assert.matches("MD5, SHA%-1, SHA%-256", err.message)
    -- Step Functions leaves $eval out ($parse instead)
    assert.equal(2, jsonata.evaluate("$eval('1+1')"))
    ok, err = pcall(jsonata.evaluate, "$eval('1+1')", nil, nil, aws)
    assert.is_false(ok)
    assert.equal("T1006", err.code)
  end)

  it("fixes $now and $millis with now_ms", function()
    assert.equal("2023-11-14T22:13:20.000Z", jsonata.evaluate("$now()", nil, nil, { now_ms = 1700000000000 }))
    assert.equal(1700000000000, jsonata.evaluate("$millis()", nil, nil, { now_ms = 1700000000000 }))
  end)
end)
