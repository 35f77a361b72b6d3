-- Choice probabilities in a simulation (issue 11 part 4): the engine's
-- choice_hook takes a Choice state's branches by stated probabilities (or
-- a Lua function) instead of evaluating its rules; the history still
-- records the state as usual.
local h = require "spec.helper"
local orchestra = require "orchestra"
local cost = require "orchestra.cost"
local json = orchestra.json

-- Work, then Check loops back to Work with probability p, else Done (the
-- rules are not evaluated: $.again is absent, which would fail them). Iterations K ~
-- Geometric(1 - p) on {1, 2, ...}: E[K] = 1 / (1 - p); transitions per
-- execution T = 2K + 1 (Work and Check each iteration, then Done), so
-- E[T] = 2 / (1 - p) + 1; Var[T] = 4 p / (1 - p)^2.
local LOOP = { StartAt = "Work", States = {
  Work = { Type = "Pass", Next = "Check" },
  Check = { Type = "Choice", Choices = { { Variable = "$.again", BooleanEquals = true, Next = "Work" } },
            Default = "Done" },
  Done = { Type = "Succeed" } } }

describe("Choice probabilities in cost.simulate", function()
  it("converge on the closed-form expectation of a geometric loop", function()
    local p, runs = 0.7, 100000
    local r = cost.simulate { definition = LOOP, runs = runs, seed = 42, progress = false,
      choices = { Check = { Work = p, Done = 1 - p } } }
    assert.are.equal(runs, r.statuses.SUCCEEDED)
    -- E[T] = 2 / 0.3 + 1 = 7.6667; sd = 2 sqrt(0.7) / 0.3 = 5.578; the
    -- standard error at 100,000 runs is 0.0176: 4 of them = 0.07
    local expected = 2 / (1 - p) + 1
    assert.is_true(math.abs(r.transitions.mean - expected) < 0.07,
      ("mean %.4f, expected %.4f"):format(r.transitions.mean, expected))
    -- quantiles of T = 2K + 1: P(K <= 8) = 1 - 0.7^8 = 0.942 and P(K <= 9)
    -- = 0.960, so p95 is K = 9, T = 19
    assert.are.equal(19, r.transitions.p95)
    -- each transition $0.000025 (Standard)
    assert.is_true(math.abs(r.usd.mean - r.transitions.mean * 0.000025) < 1e-12)
  end)

  it("take a function deciding the branch from the input", function()
    local seen = {}
    local r = cost.simulate { definition = LOOP, runs = 10, progress = false, input = { n = 1 },
      choices = { Check = function(random, input, state)
        seen[#seen + 1] = state .. ":" .. tostring(input.n)
        assert.are.equal("function", type(random))
        return #seen % 3 == 0 and "Done" or "Work"
      end } }
    -- every third Check ends a run: 3 iterations each, T = 7
    assert.are.equal(7, r.transitions.mean)
    assert.are.equal("Check:1", seen[1])
  end)

  it("reject names that are not the state's branches, sums other than 1, and non-Choice states", function()
    local ok, err = pcall(cost.simulate, { definition = LOOP, runs = 1,
      choices = { Check = { Work = 0.5, Elsewhere = 0.5 } } })
    assert.is_false(ok)
    assert.matches("cost.simulate: choices['Check']: 'Elsewhere' is not a Next or the Default of Choice state "
      .. "'Check' (Work, Done)", tostring(err), 1, true)
    ok, err = pcall(cost.simulate, { definition = LOOP, runs = 1, choices = { Check = { Work = 0.5, Done = 0.4 } } })
    assert.is_false(ok)
    assert.matches("cost.simulate: choices['Check']: the probabilities sum to 0.9, not 1", tostring(err), 1, true)
    ok, err = pcall(cost.simulate, { definition = LOOP, runs = 1, choices = { Work = { Check = 1 } } })
    assert.is_false(ok)
    assert.matches("cost.simulate: choices: 'Work' is not a Choice state of the definition", tostring(err), 1, true)
    -- within 1e-9 of 1 is accepted
    local r = cost.simulate { definition = LOOP, runs = 5, progress = false,
      choices = { Check = { Work = 0.1 + 0.2, Done = 0.7 } } }
    assert.are.equal(5, r.runs)
  end)

  it("finds Choice states inside Parallel branches and Map iterations", function()
    local def = { StartAt = "M", States = { M = { Type = "Map", ItemsPath = "$.items", End = true,
      ItemProcessor = { StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = -1, Next = "X" } }, Default = "Y" },
        X = { Type = "Pass", Next = "Y" }, Y = { Type = "Pass", End = true } } } } } }
    -- always through X: per item C, X, Y = 3; 4 items + the Map = 13
    local r = cost.simulate { definition = def, runs = 3, progress = false, input = { items = { 1, 2, 3, 4 } },
      choices = { C = { X = 1 } } }
    assert.are.equal(13, r.transitions.mean)
  end)
end)

describe("the engine's choice_hook", function()
  it("records the state as usual and fails the execution when it picks a state that is not a branch", function()
    local E = orchestra.engine { clock = "virtual", choice_hook = function(state, input, nexts)
      assert.are.same({ "Work", "Done" }, nexts)
      return input.go
    end }
    local m = E:load(LOOP)
    local ex = m:start({ go = "Done" })
    assert.are.equal("SUCCEEDED", ex:wait())
    local types = {}
    for e in ex:events() do types[#types + 1] = e.type end
    assert.are.same({ "ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered",
      "ChoiceStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded" }, types)
    -- nil: the rules decide ($.again is false: the Default)
    assert.are.equal("SUCCEEDED", m:start({ again = false }):wait())
    local bad = m:start({ go = "Nowhere" })
    assert.are.equal("FAILED", bad:wait())
    assert.are.equal("States.Runtime", bad.error)
    assert.matches("The choice hook failed: it returned 'Nowhere', not one of the Choice state 'Check''s branches "
      .. "(Work, Done)", bad.cause, 1, true)
    E:close()
  end)

  it("is refused when it is not a function", function()
    local ok, err = pcall(orchestra.engine, { choice_hook = 3 })
    assert.is_false(ok)
    assert.matches("option 'choice_hook' must be a function", tostring(err), 1, true)
  end)
end)

describe("orchestra cost simulate --choice", function()
  it("takes STATE=NEXT:P,... and reports the loop's expectation", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. h.shell_quote(dir))
    local def = dir .. "/loop.json"
    local f = assert(io.open(def, "w"))
    f:write(json.encode(LOOP))
    f:close()
    local status, out, err = h.orchestra("cost simulate " .. def
      .. " --runs 20000 --seed 3 --choice Check=Work:0.5,Done:0.5 --format json")
    assert.are.equal(0, status, err)
    local r = json.decode(out)
    -- E[T] = 2 / 0.5 + 1 = 5; sd = 2 sqrt(0.5) / 0.5 = 2.83: 4 standard
    -- errors at 20,000 runs = 0.08
    assert.is_true(math.abs(r.transitions.mean - 5) < 0.08, tostring(r.transitions.mean))
    status, _, err = h.orchestra("cost simulate " .. def .. " --choice Check=Work")
    assert.are.equal(64, status)
    assert.matches("--choice takes STATE=NEXT:P,NEXT:P,...", err, 1, true)
    status, _, err = h.orchestra("cost simulate " .. def .. " --choice Check=Work:0.5,Done:0.6")
    assert.are.equal(2, status)
    assert.matches("the probabilities sum to 1.1, not 1", err, 1, true)
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)
end)
