-- Step Functions' JSONata mode through the Lua API: QueryLanguage at the
-- top and per state, Arguments/Output/Assign/Condition/Items and the
-- fields that take expressions, $states, States.QueryEvaluationError with
-- its EvaluationFailed event, Retry/Catch, the engine's clock and seed,
-- and validation with JSON pointers. (The AWS-recorded JSONata cases run
-- in conformance_spec.lua.)
local orchestra = require "orchestra"

local START = 1700000000000 -- 2023-11-14T22:13:20Z

local function engine(opts)
  opts = opts or {}
  opts.clock = opts.clock or "virtual"
  opts.start_time = opts.start_time or START
  opts.seed = opts.seed or 42
  return orchestra.engine(opts)
end

local function run(def, input, handlers, eopts)
  local e = engine(eopts)
  for resource, fn in pairs(handlers or {}) do e:handler(resource, fn) end
  local ex = e:load(def):start(input)
  ex:wait()
  return ex, e
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function problems(def)
  local e = engine()
  local ok, err = pcall(e.load, e, def)
  assert.is_false(ok)
  local t = {}
  for _, p in ipairs(err.errors) do t[#t + 1] = p.pointer .. ": " .. p.message end
  return table.concat(t, "\n")
end

local function ja(states, start)
  return { QueryLanguage = "JSONata", StartAt = start or "A", States = states }
end

describe("JSONata mode", function()
  it("evaluates Output with $states.input, variables and functions", function()
    local ex = run(ja {
      A = { Type = "Pass", Assign = { k = 10 }, Next = "B" },
      B = { Type = "Pass", Output = {
        total = "{% $sum($states.input.items.price) + $k %}",
        names = "{% $states.input.items.name ~> $join(', ') %}",
        literal = " {% not an expression %} ",
        nested = { "{% $count($states.input.items) %}", "$.not.a.path" } }, End = true },
    }, { items = { { name = "a", price = 1.5 }, { name = "b", price = 2 } } })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ total = 13.5, names = "a, b", literal = " {% not an expression %} ",
      nested = { 2, "$.not.a.path" } }, ex.output)
  end)

  it("sends Arguments to a task and shapes its result with Output; Assign sees the old variables", function()
    local seen
    local ex = run(ja {
      A = { Type = "Pass", Assign = { n = 1 }, Next = "T" },
      T = { Type = "Task", Resource = "r",
            Arguments = { id = "{% $states.input.id %}", n = "{% $n %}" },
            Assign = { n = "{% $states.result.count %}", old = "{% $n %}" },
            Output = { got = "{% $states.result.count %}", before = "{% $n %}" }, Next = "B" },
      B = { Type = "Pass", Output = { n = "{% $n %}", old = "{% $old %}" }, End = true },
    }, { id = "x" }, { r = function(input) seen = input return { count = 7 } end })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ id = "x", n = 1 }, seen)
    assert.same({ n = 7, old = 1 }, ex.output)
    local h = ex:history().events
    local exited
    for _, ev in ipairs(h) do
      if ev.type == "TaskStateExited" then exited = ev.stateExitedEventDetails end
    end
    assert.same({ got = 7, before = 1 }, orchestra.json.decode(exited.output))
    assert.equal("7", exited.assignedVariables.n)
  end)

  it("a task's output defaults to its result, a Pass's to its input", function()
    local ex = run(ja {
      A = { Type = "Pass", Next = "T" },
      T = { Type = "Task", Resource = "r", End = true },
    }, { a = 1 }, { r = function() return { r = 2 } end })
    assert.same({ r = 2 }, ex.output)
  end)

  it("takes the first Choice rule whose Condition holds, with its Output and Assign", function()
    local def = ja({
      C = { Type = "Choice", Choices = {
        { Condition = "{% $states.input.v > 10 %}", Next = "Big", Output = { size = "big" },
          Assign = { picked = "rule" } },
        { Condition = false, Next = "Big" } },
        Default = "Small", Output = { size = "small" }, Assign = { picked = "default" } },
      Big = { Type = "Pass", Output = { size = "{% $states.input.size %}", picked = "{% $picked %}" }, End = true },
      Small = { Type = "Pass", Output = { size = "{% $states.input.size %}", picked = "{% $picked %}" }, End = true },
    }, "C")
    assert.same({ size = "big", picked = "rule" }, run(def, { v = 11 }).output)
    assert.same({ size = "small", picked = "default" }, run(def, { v = 3 }).output)
  end)

  it("fails a Choice whose Condition is not a boolean", function()
    local ex = run(ja({ C = { Type = "Choice", Choices = {
      { Condition = "{% $states.input.v %}", Next = "E" } }, Default = "E" },
      E = { Type = "Succeed" } }, "C"), { v = "yes" })
    assert.equal("FAILED", ex.status)
    assert.equal("States.QueryEvaluationError", ex.error)
    assert.matches("Expected 'boolean', but was 'string' for value: \"yes\"", ex.cause, 1, true)
  end)

  it("maps over Items with ItemSelector reading $states.context.Map.Item", function()
    local ex = run(ja({
      M = { Type = "Map", Items = "{% $states.input.xs[$ > 1] %}", MaxConcurrency = "{% 1 %}",
            ItemSelector = { v = "{% $states.context.Map.Item.Value %}",
                             i = "{% $states.context.Map.Item.Index %}", tag = "{% $states.input.tag %}" },
            ItemProcessor = { StartAt = "P", States = { P = { Type = "Pass", End = true } } },
            Output = "{% $states.result.(v * 10 + i) %}", End = true },
    }, "M"), { xs = { 1, 2, 3 }, tag = "t" })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ 20, 31 }, ex.output)
  end)

  it("records EvaluationFailed with the location, then fails with States.QueryEvaluationError", function()
    local ex = run(ja { A = { Type = "Pass", Output = { list = { 1, "{% $nope %}" } }, End = true } })
    assert.equal("FAILED", ex.status)
    assert.equal("States.QueryEvaluationError", ex.error)
    assert.equal("An error occurred while executing the state 'A' (entered at the event id #2). " ..
      "The JSONata expression '$nope' specified for the field 'Output/list/1' returned nothing (undefined).",
      ex.cause)
    assert.same({ "ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed" }, types(ex))
    local d = ex:history().events[3].evaluationFailedEventDetails
    assert.equal("Output/list/1", d.location)
    assert.equal("A", d.state)
    assert.equal("States.QueryEvaluationError", d.error)
  end)

  it("names the JSONata error code when an expression throws", function()
    local ex = run(ja { A = { Type = "Pass", Output = "{% $states.input.s + 1 %}", End = true } }, { s = "x" })
    assert.equal("States.QueryEvaluationError", ex.error)
    assert.matches("threw an error during evaluation. T2001: The left side of the", ex.cause, 1, true)
  end)

  it("catches States.QueryEvaluationError with Catch Output reading $states.errorOutput", function()
    local ex = run(ja {
      A = { Type = "Pass", Output = "{% $missing %}", End = true,
            Catch = nil },
    })
    assert.equal("FAILED", ex.status)
    ex = run(ja({
      T = { Type = "Task", Resource = "r", Arguments = { x = "{% $missing %}" }, End = true,
            Catch = { { ErrorEquals = { "States.QueryEvaluationError" },
                        Output = { caught = "{% $states.errorOutput.Error %}", input = "{% $states.input %}" },
                        Next = "Done" } } },
      Done = { Type = "Succeed" },
    }, "T"), { a = 1 }, { r = function() error("not called") end })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ caught = "States.QueryEvaluationError", input = { a = 1 } }, ex.output)
    assert.same({ "ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "TaskStateExited",
      "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded" }, types(ex))
  end)

  it("retries a failing task and catches it; the caught output defaults to the error output", function()
    local calls = 0
    local ex = run(ja({
      T = { Type = "Task", Resource = "r", Assign = { never = 1 },
            Retry = { { ErrorEquals = { "Boom" }, MaxAttempts = 2, IntervalSeconds = 1 } },
            Catch = { { ErrorEquals = { "States.ALL" }, Assign = { err = "{% $states.errorOutput.Cause %}" },
                        Next = "After" } }, End = true },
      After = { Type = "Pass", Output = { out = "{% $states.input %}", err = "{% $err %}" }, End = true },
    }, "T"), {}, { r = function() calls = calls + 1 error({ Error = "Boom", Cause = "bad " .. calls }) end })
    assert.equal(3, calls)
    assert.same({ out = { Error = "Boom", Cause = "bad 3" }, err = "bad 3" }, ex.output)
  end)

  it("waits Seconds and Timestamp given as expressions on the engine's clock", function()
    local ex, e = run(ja({
      W = { Type = "Wait", Seconds = "{% $states.input.s * 2 %}", Next = "X" },
      X = { Type = "Wait", Timestamp = "{% $states.input.at %}", Next = "Now" },
      Now = { Type = "Pass", Output = "{% $millis() %}", End = true },
    }, "W"), { s = 5, at = "2023-11-14T22:14:00Z" })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    -- 10 s after the start, then the timestamp (40 s after the start)
    assert.equal(START + 40000, ex.output)
    assert.equal(START + 40000, e:now())
  end)

  it("refuses a Wait Timestamp that is not ISO-8601 with an offset", function()
    local ex = run(ja({ W = { Type = "Wait", Timestamp = "{% '2016-12-05T21:29:29' %}", End = true } }, "W"))
    assert.equal("States.QueryEvaluationError", ex.error)
    assert.matches("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time " ..
      "format string: 2016-12-05T21:29:29", ex.cause, 1, true)
  end)

  it("takes TimeoutSeconds from an expression", function()
    local e = engine()
    e:handler("slow", function() return orchestra.pending end)
    local ex = e:load(ja({ T = { Type = "Task", Resource = "slow",
      TimeoutSeconds = "{% $states.input.t %}", End = true } }, "T")):start({ t = 3 })
    ex:wait()
    assert.equal("States.Timeout", ex.error)
    assert.equal(START + 3000, e:now())
  end)

  it("fails with Error and Cause computed by expressions", function()
    local ex = run(ja({ F = { Type = "Fail", Error = "{% 'E.' & $states.input.kind %}",
      Cause = "{% $string($states.input.n) %}" } }, "F"), { kind = "Bad", n = 3 })
    assert.equal("E.Bad", ex.error)
    assert.equal("3", ex.cause)
  end)

  it("runs Parallel branches on Arguments and shapes the result", function()
    local ex = run(ja({
      P = { Type = "Parallel", Arguments = { v = "{% $states.input.v %}" },
            Branches = {
              { StartAt = "A", States = { A = { Type = "Pass", Output = "{% $states.input.v + 1 %}", End = true } } },
              { StartAt = "B", States = { B = { Type = "Pass", Output = "{% $states.input.v * 2 %}", End = true } } } },
            Output = "{% $sum($states.result) %}", End = true },
    }, "P"), { v = 5 })
    assert.equal(16, ex.output)
  end)

  it("mixes JSONPath and JSONata states in one machine, variables shared", function()
    local ex = run({ StartAt = "A", States = {
      A = { Type = "Pass", Parameters = { ["x.$"] = "$.v" }, Assign = { ["w.$"] = "$.x" }, Next = "B" },
      B = { Type = "Pass", QueryLanguage = "JSONata", Output = { y = "{% $states.input.x + $w %}" }, Next = "C" },
      C = { Type = "Pass", ResultPath = "$.z", Result = 1, End = true } } }, { v = 4 })
    assert.same({ y = 8, z = 1 }, ex.output)
  end)

  it("uses the engine's seed for $random and $uuid (same seed, same values)", function()
    local def = ja { A = { Type = "Pass", Output = { r = "{% $random() %}", u = "{% $uuid() %}" }, End = true } }
    local a, b, c = run(def), run(def), run(def, nil, nil, { seed = 7 })
    assert.same(a.output, b.output)
    assert.are_not.same(a.output.u, c.output.u)
    assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", a.output.u)
  end)

  it("refuses $eval, as Step Functions does", function()
    local ex = run(ja { A = { Type = "Pass", Output = "{% $eval('1+1') %}", End = true } })
    assert.equal("States.QueryEvaluationError", ex.error)
    assert.matches("T1006", ex.cause, 1, true)
  end)

  it("lets a cost simulation's Choice probabilities decide JSONata Choice states", function()
    -- a loop taken with probability 1/2: C is entered 1/(1 - 1/2) = 2 times
    -- on average, L once, E once: 4 transitions per execution
    local r = orchestra.cost.simulate { runs = 20000, seed = 42, progress = false,
      definition = ja({ C = { Type = "Choice", Choices = { { Condition = "{% false %}", Next = "L" } },
                              Default = "E" },
                        L = { Type = "Pass", Next = "C" }, E = { Type = "Succeed" } }, "C"),
      choices = { C = { L = 0.5, E = 0.5 } } }
    assert.is_true(math.abs(r.transitions.mean - 4) < 0.06, tostring(r.transitions.mean))
  end)

  it("survives a choice hook that stops its own execution (re-entry), in both modes", function()
    local ex
    local e = engine { choice_hook = function(_, _, nexts)
      ex:stop("Stopped.Here", "from the hook")
      return nexts[1]
    end }
    for _, def in ipairs({
      ja({ C = { Type = "Choice", Choices = { { Condition = "{% true %}", Next = "E" } }, Default = "E" },
           E = { Type = "Succeed" } }, "C"),
      { StartAt = "C", States = { C = { Type = "Choice", Default = "E",
          Choices = { { Variable = "$.a", IsPresent = true, Next = "E" } } }, E = { Type = "Succeed" } } },
    }) do
      ex = e:load(def):start({ a = 1 })
      ex:wait()
      assert.equal("ABORTED", ex.status)
      assert.equal("Stopped.Here", ex.error)
      assert.same({ "ExecutionStarted", "ChoiceStateEntered", "ExecutionAborted" }, types(ex))
      ex:close()
    end
  end)

  describe("validation", function()
    it("names JSONPath fields in JSONata states and JSONata fields in JSONPath states", function()
      local p = problems(ja { A = { Type = "Task", Resource = "r", Parameters = {}, ResultPath = "$.x", End = true } })
      assert.matches("/States/A/Parameters: The QueryLanguage is set to 'JSONata', but field 'Parameters' " ..
        "is only supported for the 'JSONPath' QueryLanguage", p, 1, true)
      assert.matches("/States/A/ResultPath: The QueryLanguage is set to 'JSONata'", p, 1, true)
      p = problems({ StartAt = "A", States = { A = { Type = "Pass", Output = {}, End = true } } })
      assert.matches("/States/A/Output: The QueryLanguage is set to 'JSONPath', but field 'Output' " ..
        "is only supported for the 'JSONata' QueryLanguage", p, 1, true)
    end)

    it("refuses a JSONPath state in a JSONata machine", function()
      local p = problems(ja { A = { Type = "Pass", QueryLanguage = "JSONPath", End = true } })
      assert.matches("/States/A/QueryLanguage: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' " ..
        "for whole state machine", p, 1, true)
    end)

    it("reports a syntax error in an expression with its pointer and code", function()
      local p = problems(ja { A = { Type = "Pass", Output = { x = { "{% 1 + %}" } }, End = true } })
      assert.matches("/States/A/Output/x/0: invalid JSONata expression '1 +': S0", p, 1, true)
    end)

    it("requires Condition in JSONata Choice rules and checks Items", function()
      local p = problems(ja({ C = { Type = "Choice", Choices = { { Variable = "$.x", Next = "C" } } },
        M = { Type = "Map", Items = "not an expression", ItemProcessor = { StartAt = "P",
          States = { P = { Type = "Pass", End = true } } }, End = true } }, "C"))
      assert.matches("/States/C/Choices/0/Variable: The QueryLanguage is set to 'JSONata'", p, 1, true)
      assert.matches("/States/C/Choices/0: a Choice rule written in JSONata needs Condition", p, 1, true)
      assert.matches("/States/M/Items: Items must be an array or a JSONata expression", p, 1, true)
    end)

    it("refuses what AWS refuses at creation: a top-level reference, $, $$, errorOutput outside a Catch", function()
      local p = problems(ja { A = { Type = "Pass", Output = { a = "{% phone %}", b = "{% $sum(items.price) %}",
        c = "{% $ %}", d = "{% $states.input.items[price > 1].qty %}",
        e = "{% $states.errorOutput %}" }, End = true } })
      assert.matches("/States/A/Output/a: Reference to 'phone' at the top level is not supported: JSONata in " ..
        "Step Functions has no root document (read the input as $states.input.phone)", p, 1, true)
      assert.matches("/States/A/Output/b: Reference to 'items' at the top level", p, 1, true)
      assert.matches("/States/A/Output/c: Reference to '$' at the top level", p, 1, true)
      assert.not_matches("/States/A/Output/d", p, 1, true)
      assert.matches("/States/A/Output/e: Field '$states.errorOutput' does not exist here", p, 1, true)
    end)

    it("orchestra.validate accepts a JSONata definition", function()
      assert.is_true(orchestra.validate(ja { A = { Type = "Pass", Output = "{% 1 %}", End = true } }))
    end)
  end)
end)
