-- The state machine executor through the Lua API: states, input/output
-- processing, Retry/Catch, the history, the clock, limits and lifetimes.
local orchestra = require "orchestra"
local json = orchestra.json

local START = 1700000000000 -- 2023-11-14T22:13:20Z

local function engine(opts)
  opts = opts or {}
  opts.clock = opts.clock or "virtual"
  opts.start_time = opts.start_time or START
  opts.seed = opts.seed or 42
  return orchestra.engine(opts)
end

-- Run def (a table) with input; returns the finished execution.
local function run(def, input, handlers, eopts)
  local e = engine(eopts)
  for resource, fn in pairs(handlers or {}) do e:handler(resource, fn) end
  local m = e:load(def)
  local ex = m:start(input)
  ex:wait()
  return ex, e
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function load_error(def)
  local e = engine()
  local ok, err = pcall(e.load, e, def)
  assert.is_false(ok)
  assert.is_table(err)
  return err
end

local function pointers(err)
  local t = {}
  for _, p in ipairs(err.errors) do t[#t + 1] = p.pointer .. ": " .. p.message end
  return table.concat(t, "\n")
end

describe("the executor", function()
  describe("Pass", function()
    it("passes its input through and records Entered/Exited", function()
      local ex = run({ StartAt = "P", States = { P = { Type = "Pass", End = true } } },
        { a = 1 })
      assert.equal("SUCCEEDED", ex.status)
      assert.same({ a = 1 }, ex.output)
      assert.same({ "ExecutionStarted", "PassStateEntered", "PassStateExited",
                    "ExecutionSucceeded" }, types(ex))
    end)

    it("applies Result, ResultPath and OutputPath", function()
      local ex = run({ StartAt = "P", States = { P = {
        Type = "Pass", Result = { x = { y = 5 } }, ResultPath = "$.r", OutputPath = "$.r.x",
        End = true } } }, { a = 1 })
      assert.same({ y = 5 }, ex.output)
    end)

    it("keeps Result keys ending in .$ literal", function()
      local ex = run({ StartAt = "P", States = { P = {
        Type = "Pass", Result = { ["TestResult.$"] = "$.x" }, End = true } } }, { x = 1 })
      assert.same({ ["TestResult.$"] = "$.x" }, ex.output)
    end)

    it("evaluates Parameters with paths, nested objects and the context object", function()
      local ex = run({ StartAt = "P", States = { P = {
        Type = "Pass",
        Parameters = { ["id.$"] = "$.order.id", fixed = "v",
                       nested = { ["items.$"] = "$.order.items[*].sku" },
                       ["state.$"] = "$$.State.Name",
                       ["exec.$"] = "$$.Execution.Name",
                       ["start.$"] = "$$.Execution.StartTime" },
        End = true } } },
        { order = { id = 7, items = { { sku = "a" }, { sku = "b" } } } })
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      local out = ex.output
      assert.equal(7, out.id)
      assert.equal("v", out.fixed)
      assert.same({ "a", "b" }, out.nested.items)
      assert.equal("P", out.state)
      assert.equal(ex.name, out.exec)
      assert.equal("2023-11-14T22:13:20.000Z", out.start)
    end)

    it("discards the result with ResultPath null and gives {} for a null InputPath", function()
      local ex = run({ StartAt = "A", States = {
        A = { Type = "Pass", Result = "x", ResultPath = orchestra.null, Next = "B" },
        B = { Type = "Pass", InputPath = orchestra.null, End = true } } }, { keep = true })
      assert.equal("SUCCEEDED", ex.status)
      assert.equal("{}", ex:output_json())
    end)

    it("creates missing objects for ResultPath and shares the rest", function()
      local ex = run({ StartAt = "P", States = { P = {
        Type = "Pass", Result = 1, ResultPath = "$.a.b.c", End = true } } }, { z = { 1, 2 } })
      assert.equal('{"z":[1,2],"a":{"b":{"c":1}}}', ex:output_json())
    end)

    it("fails with States.Runtime when InputPath matches nothing", function()
      local ex = run({ StartAt = "P", States = { P = {
        Type = "Pass", InputPath = "$.missing", End = true } } }, { a = 1 })
      assert.equal("FAILED", ex.status)
      assert.equal("States.Runtime", ex.error)
      assert.matches("^An error occurred while executing the state 'P' %(entered at the event id #2%)%. ",
        ex.cause)
    end)
  end)

  describe("Task", function()
    local RES = "arn:aws:lambda:us-east-1:123456789012:function:charge"

    it("calls the handler with input and context and uses its result", function()
      local seen
      local ex = run({ StartAt = "T", States = { T = {
        Type = "Task", Resource = RES, Parameters = { ["amount.$"] = "$.amount" },
        ResultSelector = { ["charged.$"] = "$.ok" }, ResultPath = "$.charge", End = true } } },
        { amount = 42 },
        { [RES] = function(input, ctx)
          seen = { input = input, state = ctx.State.Name, resource = ctx.resource }
          return { ok = input.amount * 2, extra = "dropped" }
        end })
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      assert.same({ amount = 42 }, seen.input)
      assert.equal("T", seen.state)
      assert.equal(RES, seen.resource)
      assert.equal('{"amount":42,"charge":{"charged":84}}', ex:output_json())
    end)

    it("records Lambda events for a Lambda function ARN", function()
      local ex = run({ StartAt = "T", States = { T = { Type = "Task", Resource = RES, End = true } } },
        {}, { [RES] = function() return { ok = true } end })
      assert.same({ "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded" }, types(ex))
      local h = ex:history()
      assert.equal(RES, h.events[3].lambdaFunctionScheduledEventDetails.resource)
      assert.equal('{"ok":true}', h.events[5].lambdaFunctionSucceededEventDetails.output)
    end)

    it("records Task events with resourceType and resource for service integrations", function()
      local ex = run({ StartAt = "T", States = { T = {
        Type = "Task", Resource = "arn:aws:states:::lambda:invoke",
        Parameters = { FunctionName = "f", ["Payload.$"] = "$" }, End = true } } },
        { a = 1 }, { ["arn:aws:states:::lambda:invoke"] = function(input)
          return { StatusCode = 200, Payload = input.Payload }
        end })
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      local h = ex:history().events
      assert.equal("TaskScheduled", h[3].type)
      local d = h[3].taskScheduledEventDetails
      assert.equal("lambda", d.resourceType)
      assert.equal("invoke", d.resource)
      assert.equal("us-east-1", d.region)
      assert.equal('{"FunctionName":"f","Payload":{"a":1}}', d.parameters)
      assert.equal("TaskStarted", h[4].type)
      assert.equal("TaskSucceeded", h[5].type)
      -- ids chain: the first state's Entered points at 0, then each at the one before
      assert.equal(0, h[2].previousEventId)
      assert.equal(2, h[3].previousEventId)
      assert.equal(5, h[6].previousEventId)
    end)

    it("fails with States.TaskFailed naming the resource when no handler exists", function()
      local ex = run({ StartAt = "T", States = { T = { Type = "Task", Resource = "urn:nothing", End = true } } })
      assert.equal("FAILED", ex.status)
      assert.equal("States.TaskFailed", ex.error)
      assert.matches("urn:nothing", ex.cause)
    end)

    it("turns error{Error=, Cause=} into the task's error and any other Lua error into States.TaskFailed", function()
      local ex = run({ StartAt = "T", States = { T = { Type = "Task", Resource = "r1", End = true } } },
        {}, { r1 = function() error({ Error = "Declined", Cause = "card expired" }) end })
      assert.equal("Declined", ex.error)
      assert.equal("card expired", ex.cause)
      ex = run({ StartAt = "T", States = { T = { Type = "Task", Resource = "r1", End = true } } },
        {}, { r1 = function() error("boom") end })
      assert.equal("States.TaskFailed", ex.error)
      assert.matches("boom", ex.cause)
    end)

    it("retries with back-off in virtual time, one counter per retrier", function()
      local calls, times = 0, {}
      local e = engine()
      e:handler("flaky", function()
        calls = calls + 1
        times[#times + 1] = e:now()
        if calls < 4 then error({ Error = "Busy", Cause = "try " .. calls }) end
        return { calls = calls }
      end)
      local ex = e:load({ StartAt = "T", States = { T = {
        Type = "Task", Resource = "flaky",
        Retry = { { ErrorEquals = { "Busy" }, IntervalSeconds = 2, MaxAttempts = 3, BackoffRate = 3 } },
        End = true } } }):start({})
      ex:wait()
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      assert.equal(4, calls)
      assert.same({ 0, 2000, 8000, 26000 }, { times[1] - START, times[2] - START,
        times[3] - START, times[4] - START })
      local t = types(ex)
      assert.same({ "ExecutionStarted", "TaskStateEntered",
        "TaskScheduled", "TaskStarted", "TaskFailed",
        "TaskScheduled", "TaskStarted", "TaskFailed",
        "TaskScheduled", "TaskStarted", "TaskFailed",
        "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded" }, t)
    end)

    it("honours MaxAttempts 0 and MaxDelaySeconds", function()
      local calls = 0
      local ex = run({ StartAt = "T", States = { T = {
        Type = "Task", Resource = "r",
        Retry = { { ErrorEquals = { "X" }, MaxAttempts = 0 }, { ErrorEquals = { "States.ALL" } } },
        End = true } } }, {}, { r = function() calls = calls + 1 error({ Error = "X" }) end })
      assert.equal(1, calls) -- the first matching retrier decides: no retry
      assert.equal("X", ex.error)
    end)

    it("catches into ResultPath with Error and Cause, and goes to the catcher's Next", function()
      local ex = run({ StartAt = "T", States = {
        T = { Type = "Task", Resource = "r", Catch = {
          { ErrorEquals = { "Other" }, Next = "Wrong" },
          { ErrorEquals = { "States.ALL" }, ResultPath = "$.err", Next = "Recover" } }, End = true },
        Wrong = { Type = "Fail", Error = "Wrong" },
        Recover = { Type = "Pass", End = true } } },
        { order = 1 }, { r = function() error({ Error = "Declined", Cause = "no funds" }) end })
      assert.equal("SUCCEEDED", ex.status)
      assert.equal('{"order":1,"err":{"Error":"Declined","Cause":"no funds"}}', ex:output_json())
      assert.same({ "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
        "TaskFailed", "TaskStateExited", "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded" }, types(ex))
    end)

    it("lets States.TaskFailed match any error but States.Timeout", function()
      local ex = run({ StartAt = "T", States = {
        T = { Type = "Task", Resource = "r", Catch = {
          { ErrorEquals = { "States.TaskFailed" }, Next = "C" } }, End = true },
        C = { Type = "Pass", Result = "caught", End = true } } },
        {}, { r = function() error({ Error = "Custom.Error" }) end })
      assert.equal("caught", ex.output)
    end)

    it("does not retry or catch States.Runtime", function()
      local calls = 0
      local ex = run({ StartAt = "T", States = {
        T = { Type = "Task", Resource = "r", OutputPath = "$.nothing",
          Retry = { { ErrorEquals = { "States.ALL" } } },
          Catch = { { ErrorEquals = { "States.ALL" }, Next = "C" } }, End = true },
        C = { Type = "Pass", End = true } } },
        {}, { r = function() calls = calls + 1 return {} end })
      assert.equal(1, calls)
      assert.equal("FAILED", ex.status)
      assert.equal("States.Runtime", ex.error)
    end)

    it("fails with States.DataLimitExceeded when a result is over the payload limit", function()
      local ex = run({ StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } },
        {}, { r = function() return string.rep("x", 300) end }, { max_payload_bytes = 100 })
      assert.equal("States.DataLimitExceeded", ex.error)
      assert.equal("The state/task 'T' returned a result with a size exceeding the maximum "
        .. "number of bytes service limit.", ex.cause)
    end)

    it("matches handlers exactly, then by the longest prefix, then the default", function()
      local e = engine()
      e:handler("arn:aws:lambda:*", function() return "lambda" end)
      e:handler("arn:aws:lambda:us-east-1:*", function() return "us-east-1" end)
      e:handler("arn:aws:lambda:us-east-1:1:function:exact", function() return "exact" end)
      e:default_handler(function(resource) return "default:" .. resource end)
      local function out(resource)
        local ex = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = resource, End = true } } }):start({})
        ex:wait()
        return ex.output
      end
      assert.equal("exact", out("arn:aws:lambda:us-east-1:1:function:exact"))
      assert.equal("us-east-1", out("arn:aws:lambda:us-east-1:1:function:other"))
      assert.equal("lambda", out("arn:aws:lambda:eu-west-1:1:function:x"))
      assert.equal("default:urn:x", out("urn:x"))
    end)
  end)

  describe("Choice", function()
    local function choose(rule, input)
      local def = { StartAt = "C", States = {
        C = { Type = "Choice", Choices = { rule }, Default = "No" },
        Yes = { Type = "Pass", Result = "yes", End = true },
        No = { Type = "Pass", Result = "no", End = true } } }
      rule.Next = "Yes"
      local ex = run(def, input)
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      return ex.output
    end

    it("compares strings, numbers, booleans and timestamps", function()
      assert.equal("yes", choose({ Variable = "$.s", StringEquals = "a" }, { s = "a" }))
      assert.equal("no", choose({ Variable = "$.s", StringEquals = "a" }, { s = "b" }))
      assert.equal("yes", choose({ Variable = "$.s", StringLessThan = "b" }, { s = "a" }))
      assert.equal("yes", choose({ Variable = "$.s", StringGreaterThanEquals = "a" }, { s = "a" }))
      assert.equal("yes", choose({ Variable = "$.n", NumericEquals = 1 }, { n = 1.0 }))
      assert.equal("yes", choose({ Variable = "$.n", NumericLessThan = 10 }, { n = 9.5 }))
      assert.equal("no", choose({ Variable = "$.n", NumericGreaterThan = 10 }, { n = 10 }))
      assert.equal("yes", choose({ Variable = "$.n", NumericGreaterThanEquals = 10 }, { n = 10 }))
      assert.equal("no", choose({ Variable = "$.n", NumericEquals = 1 }, { n = "1" }))
      assert.equal("yes", choose({ Variable = "$.b", BooleanEquals = false }, { b = false }))
      assert.equal("yes", choose({ Variable = "$.t", TimestampLessThan = "2024-01-01T00:00:00Z" },
        { t = "2023-12-31T23:59:59.999Z" }))
      assert.equal("yes", choose({ Variable = "$.t", TimestampEquals = "2024-01-01T01:00:00+01:00" },
        { t = "2024-01-01T00:00:00Z" }))
    end)

    it("compares against other paths", function()
      assert.equal("yes", choose({ Variable = "$.a", NumericLessThanPath = "$.b" }, { a = 1, b = 2 }))
      assert.equal("yes", choose({ Variable = "$.a", StringEqualsPath = "$.b" }, { a = "x", b = "x" }))
    end)

    it("matches StringMatches globs with escapes", function()
      assert.equal("yes", choose({ Variable = "$.f", StringMatches = "log-*.txt" }, { f = "log-2024.txt" }))
      assert.equal("no", choose({ Variable = "$.f", StringMatches = "log-*.txt" }, { f = "log-2024.csv" }))
      assert.equal("yes", choose({ Variable = "$.f", StringMatches = "a\\*b" }, { f = "a*b" }))
      assert.equal("no", choose({ Variable = "$.f", StringMatches = "a\\*b" }, { f = "axb" }))
    end)

    it("tests types and presence", function()
      assert.equal("yes", choose({ Variable = "$.x", IsPresent = false }, {}))
      assert.equal("yes", choose({ Variable = "$.x", IsNull = true }, { x = orchestra.null }))
      assert.equal("yes", choose({ Variable = "$.x", IsNumeric = true }, { x = 2 }))
      assert.equal("yes", choose({ Variable = "$.x", IsString = true }, { x = "2" }))
      assert.equal("yes", choose({ Variable = "$.x", IsBoolean = false }, { x = orchestra.null }))
      assert.equal("yes", choose({ Variable = "$.x", IsTimestamp = true }, { x = "2024-02-29T10:00:00Z" }))
      assert.equal("no", choose({ Variable = "$.x", IsTimestamp = true }, { x = "2023-02-29T10:00:00Z" }))
    end)

    it("combines rules with And, Or and Not", function()
      local rule = { And = { { Variable = "$.a", NumericGreaterThan = 0 },
                             { Not = { Variable = "$.b", StringEquals = "x" } },
                             { Or = { { Variable = "$.c", BooleanEquals = true },
                                      { Variable = "$.d", IsPresent = true } } } } }
      assert.equal("yes", choose(rule, { a = 1, b = "y", c = false, d = 0 }))
      rule = { And = { { Variable = "$.a", NumericGreaterThan = 0 },
                       { Not = { Variable = "$.b", StringEquals = "x" } } } }
      assert.equal("no", choose(rule, { a = 1, b = "x" }))
    end)

    it("fails with States.NoChoiceMatched without a Default", function()
      local ex = run({ StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { Variable = "$.a", NumericEquals = 1, Next = "Y" } } },
        Y = { Type = "Succeed" } } }, { a = 2 })
      assert.equal("FAILED", ex.status)
      assert.equal("States.NoChoiceMatched", ex.error)
      assert.same({ "ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed" }, types(ex))
    end)

    it("fails with States.Runtime when the Variable is missing", function()
      local ex = run({ StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { Variable = "$.a", NumericEquals = 1, Next = "Y" } },
          Default = "Y" },
        Y = { Type = "Succeed" } } }, {})
      assert.equal("States.Runtime", ex.error)
    end)
  end)

  describe("Wait", function()
    it("waits in virtual time and the timestamps advance", function()
      local ex, e = run({ StartAt = "W", States = {
        W = { Type = "Wait", Seconds = 3600, Next = "W2" },
        W2 = { Type = "Wait", SecondsPath = "$.s", Next = "W3" },
        W3 = { Type = "Wait", TimestampPath = "$.until", End = true } } },
        { s = 60, ["until"] = "2023-11-15T00:00:00Z" })
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      assert.equal(1700006400000, e:now())
      local h = ex:history().events
      assert.equal("WaitStateExited", h[3].type)
      assert.equal((START + 3600000) / 1000, h[3].timestamp)
    end)

    it("rejects a fractional or negative SecondsPath with Step Functions' causes", function()
      local def = { StartAt = "W", States = { W = { Type = "Wait", SecondsPath = "$.s", End = true } } }
      local ex = run(def, { s = 1.5 })
      assert.equal("States.Runtime", ex.error)
      assert.matches("cannot be parsed as a long value", ex.cause)
      ex = run(def, { s = -1 })
      assert.matches("references a negative value", ex.cause)
    end)
  end)

  describe("Succeed and Fail", function()
    it("Fail gives Error and Cause, from literals or paths", function()
      local ex = run({ StartAt = "F", States = { F = { Type = "Fail", Error = "E", Cause = "C" } } })
      assert.equal("FAILED", ex.status)
      assert.equal("E", ex.error)
      assert.equal("C", ex.cause)
      assert.same({ "ExecutionStarted", "FailStateEntered", "ExecutionFailed" }, types(ex))
      ex = run({ StartAt = "F", States = { F = { Type = "Fail", ErrorPath = "$.e", CausePath = "$.c" } } },
        { e = "Dyn", c = "because" })
      assert.equal("Dyn", ex.error)
      assert.equal("because", ex.cause)
    end)

    it("Fail without Error and Cause fails with neither", function()
      local ex = run({ StartAt = "F", States = { F = { Type = "Fail" } } })
      assert.equal("FAILED", ex.status)
      assert.is_nil(ex.error)
      assert.is_nil(ex.cause)
    end)

    it("Succeed ends with its (OutputPath-filtered) input", function()
      local ex = run({ StartAt = "S", States = { S = { Type = "Succeed", OutputPath = "$.a" } } }, { a = { b = 1 } })
      assert.same({ b = 1 }, ex.output)
    end)
  end)

  describe("executions", function()
    local DEF = { StartAt = "W", States = { W = { Type = "Wait", Seconds = 10, End = true } } }

    it("have unique names per machine", function()
      local e = engine()
      local m = e:load(DEF)
      m:start({}, { name = "one" })
      local ok, err = pcall(m.start, m, {}, { name = "one" })
      assert.is_false(ok)
      assert.equal("ExecutionAlreadyExists", err.code)
      assert.has_error(function() m:start({}, { name = "bad name" }) end)
    end)

    it("can be stopped", function()
      local e = engine()
      local ex = e:load(DEF):start({})
      e:step()
      ex:stop("Cancelled", "by the user")
      assert.equal("ABORTED", ex.status)
      assert.equal("Cancelled", ex.error)
      assert.same({ "ExecutionStarted", "WaitStateEntered", "ExecutionAborted" }, types(ex))
      assert.has_error(function() ex:stop() end)
    end)

    it("time out with the machine's TimeoutSeconds", function()
      local ex = run({ TimeoutSeconds = 5, StartAt = "W", States = {
        W = { Type = "Wait", Seconds = 10, End = true } } })
      assert.equal("TIMED_OUT", ex.status)
      assert.equal("States.Timeout", ex.error)
      assert.equal("ExecutionTimedOut", types(ex)[3])
    end)

    it("are driven by engine:step() without blocking", function()
      local e = engine()
      local ex = e:load({ StartAt = "A", States = {
        A = { Type = "Pass", Next = "B" }, B = { Type = "Pass", End = true } } }):start({})
      assert.equal("RUNNING", ex.status)
      local steps = 0
      while ex.status == "RUNNING" and steps < 10 do e:step() steps = steps + 1 end
      assert.equal("SUCCEEDED", ex.status)
    end)

    it("reject input over the payload limit", function()
      local e = engine({ max_payload_bytes = 10 })
      local m = e:load(DEF)
      local ok, err = pcall(m.start, m, { big = string.rep("x", 20) })
      assert.is_false(ok)
      assert.equal("States.DataLimitExceeded", err.code)
    end)

    it("are reproducible under the virtual clock and a fixed seed", function()
      local def = { StartAt = "P", States = { P = { Type = "Pass",
        Parameters = { ["r.$"] = "States.MathRandom(1, 1000)", ["u.$"] = "States.UUID()" }, End = true } } }
      local a = run(def, {}, nil, { seed = 7 })
      local b = run(def, {}, nil, { seed = 7 })
      assert.equal("SUCCEEDED", a.status, a.cause)
      assert.equal(a:output_json(), b:output_json())
      assert.equal(a:history_json():gsub('"Id":"[^"]*"', ""), b:history_json():gsub('"Id":"[^"]*"', ""))
    end)
  end)

  describe("loading", function()
    it("reports every problem with a JSON pointer", function()
      local err = load_error({ StartAt = "Nope", States = {
        A = { Type = "Pass", Next = "Missing" },
        B = { Type = "Pass", Resource = "x", End = true },
        C = { Type = "Task", End = true },
        D = { Type = "Choice", Choices = { { Variable = "$.a", Next = "A" } } },
        E = { Type = "Wait", Seconds = 1, Timestamp = "2024-01-01T00:00:00Z", End = true },
        F = { Type = "Pass", InputPath = "$.a[", End = true },
        G = { Type = "Task", Resource = "r", Retry = { { ErrorEquals = { "States.ALL", "X" } } }, End = true },
      } })
      assert.equal("InvalidDefinition", err.code)
      local text = pointers(err)
      assert.matches("/StartAt: StartAt names state 'Nope', which does not exist", text, 1, true)
      assert.matches("/States/A/Next: Next names state 'Missing', which does not exist", text, 1, true)
      assert.matches("/States/B/Resource: field 'Resource' is not allowed in a Pass state", text, 1, true)
      assert.matches("/States/C: a Task state needs Resource", text, 1, true)
      assert.matches("/States/D/Choices/0: a Choice rule needs a comparison operator", text, 1, true)
      assert.matches("/States/E: a Wait state needs exactly one of", text, 1, true)
      assert.matches("/States/F/InputPath: ", text, 1, true)
      assert.matches("/States/G/Retry/0/ErrorEquals/0: States.ALL must appear alone", text, 1, true)
    end)

    it("reports unreachable states and missing terminals", function()
      local text = pointers(load_error({ StartAt = "A", States = {
        A = { Type = "Pass", End = true }, Orphan = { Type = "Pass", End = true } } }))
      assert.matches("/States/Orphan: state 'Orphan' is not reachable from StartAt", text, 1, true)
      text = pointers(load_error({ StartAt = "A", States = { A = { Type = "Pass" } } }))
      assert.matches("/States/A: a Pass state needs Next or \"End\": true", text, 1, true)
    end)

    it("reports duplicate state names in the JSON text", function()
      local e = engine()
      local ok, err = pcall(e.load, e, [[{"StartAt":"A","States":{"A":{"Type":"Succeed"},"A":{"Type":"Succeed"}}}]])
      assert.is_false(ok)
      assert.matches('duplicate key "A" at /States/A', err.message, 1, true)
    end)

    it("rejects JSONPath fields in a JSONata state, naming them", function()
      local err = load_error({ QueryLanguage = "JSONata", StartAt = "A",
        States = { A = { Type = "Pass", InputPath = "$.x", End = true } } })
      assert.equal("InvalidDefinition", err.code)
      assert.matches("/States/A/InputPath: The QueryLanguage is set to 'JSONata', but field " ..
        "'InputPath' is only supported for the 'JSONPath' QueryLanguage", err.message, 1, true)
    end)

    it("orchestra.validate returns ok or the problems", function()
      assert.is_true(orchestra.validate({ StartAt = "A", States = { A = { Type = "Succeed" } } }))
      local ok, errors = orchestra.validate('{"StartAt": "A"}')
      assert.is_false(ok)
      assert.equal("", errors[1].pointer)
      assert.equal("a state machine needs States", errors[1].message)
    end)
  end)
end)

describe("Map and Parallel", function()
  it("runs Parallel branches and collects their outputs in branch order", function()
    local ex = run({ StartAt = "P", States = { P = { Type = "Parallel", End = true,
      ResultSelector = { ["first.$"] = "$[0]", ["second.$"] = "$[1].b" },
      Branches = {
        { StartAt = "A", States = { A = { Type = "Wait", Seconds = 5, Next = "A2" },
                                    A2 = { Type = "Pass", Result = "a", End = true } } },
        { StartAt = "B", States = { B = { Type = "Pass", Parameters = { ["b.$"] = "$.x" }, End = true } } },
      } } } }, { x = 7 })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"first":"a","second":7}', ex:output_json())
    local t = types(ex)
    assert.equal("ParallelStateEntered", t[2])
    assert.equal("ParallelStateStarted", t[3])
    assert.equal("ParallelStateSucceeded", t[#t - 2])
    assert.equal("ParallelStateExited", t[#t - 1])
  end)

  it("fails the Parallel with the branch's own error, stops the others, and can catch it", function()
    local ex = run({ StartAt = "P", States = {
      P = { Type = "Parallel", Next = "Done",
        Catch = { { ErrorEquals = { "Boom" }, ResultPath = "$.err", Next = "Caught" } },
        Branches = {
          { StartAt = "W", States = { W = { Type = "Wait", Seconds = 100, End = true } } },
          { StartAt = "F", States = { F = { Type = "Fail", Error = "Boom", Cause = "bang" } } },
        } },
      Caught = { Type = "Pass", End = true },
      Done = { Type = "Succeed" } } }, {})
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"err":{"Error":"Boom","Cause":"bang"}}', ex:output_json())
    local t = types(ex)
    assert.equal("ParallelStateFailed", t[#t - 4])
    assert.equal("ParallelStateExited", t[#t - 3])
  end)

  it("maps items in order with ItemSelector, $$.Map.Item and MaxConcurrency", function()
    local calls = {}
    local ex = run({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemsPath = "$.items", MaxConcurrency = 2,
      ItemSelector = { ["v.$"] = "$$.Map.Item.Value", ["i.$"] = "$$.Map.Item.Index", ["tag.$"] = "$.tag" },
      ItemProcessor = { StartAt = "T", States = { T = { Type = "Task", Resource = "double", End = true } } },
      } } }, { tag = "t", items = { 3, 1, 2 } },
      { double = function(input) calls[#calls + 1] = input.i return { i = input.i, d = input.v * 2, tag = input.tag } end })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('[{"d":6,"i":0,"tag":"t"},{"d":2,"i":1,"tag":"t"},{"d":4,"i":2,"tag":"t"}]', ex:output_json())
    local n = 0
    for ev in ex:events() do if ev.type == "MapIterationStarted" then n = n + 1 end end
    assert.equal(3, n)
  end)

  it("batches items with ItemBatcher and tolerates failures up to the threshold", function()
    local ex = run({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemBatcher = { MaxItemsPerBatch = 2, BatchInput = { ["k.$"] = "$.k" } }, ItemsPath = "$.items",
      ItemProcessor = { StartAt = "P", States = { P = { Type = "Pass", End = true } } } } } },
      { k = 1, items = { "a", "b", "c" } })
    assert.equal('[{"Items":["a","b"],"BatchInput":{"k":1}},{"Items":["c"],"BatchInput":{"k":1}}]',
      ex:output_json())
    local def = { StartAt = "M", States = { M = { Type = "Map", End = true, ToleratedFailureCount = 1,
      ItemProcessor = { StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = 0, Next = "F" } }, Default = "OK" },
        F = { Type = "Fail", Error = "Zero" }, OK = { Type = "Pass", End = true } } } } } }
    ex = run(def, { 1, 0, 2 })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('[1,{"Error":"Zero","Cause":null},2]', ex:output_json())
    ex = run(def, { 0, 0, 2 })
    assert.equal("FAILED", ex.status)
    assert.equal("States.ExceedToleratedFailureThreshold", ex.error)
  end)

  it("tolerates a failure percentage up to and including the threshold", function()
    local function def(pct)
      return { StartAt = "M", States = { M = { Type = "Map", End = true, ToleratedFailurePercentage = pct,
        ItemProcessor = { StartAt = "C", States = {
          C = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = 0, Next = "F" } }, Default = "OK" },
          F = { Type = "Fail", Error = "Zero" }, OK = { Type = "Pass", End = true } } } } } }
    end
    assert.equal("SUCCEEDED", run(def(50), { 0, 1, 0, 1 }).status)   -- exactly 50 %
    local ex = run(def(50), { 0, 0, 0, 1 })                           -- 75 %
    assert.equal("FAILED", ex.status)
    assert.equal("States.ExceedToleratedFailureThreshold", ex.error)
    assert.equal("The specified tolerated failure threshold was exceeded", ex.cause)
    assert.equal("FAILED", run(def(0), { 1, 0, 1 }).status)           -- 0 %: none tolerated
    assert.equal("SUCCEEDED", run(def(100), { 0, 0, 0 }).status)
  end)

  it("stops a Map's other iterations when one fails, recording them as aborted", function()
    local ex = run({ StartAt = "M", States = { M = { Type = "Map", End = true, MaxConcurrency = 2,
      ItemProcessor = { StartAt = "C", States = {
        C = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = 0, Next = "F" } }, Default = "W" },
        W = { Type = "Wait", Seconds = 5, End = true },
        F = { Type = "Fail", Error = "Zero", Cause = "item 0" } } } } } }, { 1, 0, 2 })
    assert.equal("FAILED", ex.status)
    assert.equal("Zero", ex.error)
    local t = types(ex)
    assert.same({ "ExecutionStarted", "MapStateEntered", "MapStateStarted",
      "MapIterationStarted", "MapIterationStarted", -- two at once (MaxConcurrency 2), interleaved
      "ChoiceStateEntered", "ChoiceStateExited", "ChoiceStateEntered", "ChoiceStateExited",
      "WaitStateEntered", "FailStateEntered",
      "MapIterationFailed", "MapIterationAborted", "MapStateFailed", "ExecutionFailed" }, t)
    -- item 2 never started; the aborted iteration is item 0's sibling, index 0
    local h = ex:history().events
    assert.equal(0, h[13].mapIterationAbortedEventDetails.index)
    assert.equal(1, h[12].mapIterationFailedEventDetails.index)
  end)

  it("runs a Map inside a Map and a Parallel inside a Map", function()
    local ex = run({ StartAt = "Outer", States = { Outer = { Type = "Map", End = true,
      ItemProcessor = { StartAt = "Inner", States = {
        Inner = { Type = "Map", Next = "Par", ItemProcessor = { StartAt = "X", States = {
          X = { Type = "Pass", End = true } } } },
        Par = { Type = "Parallel", End = true, Branches = {
          { StartAt = "L", States = { L = { Type = "Pass", End = true } } },
          { StartAt = "R", States = { R = { Type = "Pass", Result = "r", End = true } } } } } } } } } },
      { { 1, 2 }, { 3 } })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('[[[1,2],"r"],[[3],"r"]]', ex:output_json())
  end)

  it("retries a failing Map with a new MapStateStarted and no MapStateFailed in between", function()
    local ex = run({ StartAt = "M", States = { M = { Type = "Map", End = true,
      Retry = { { ErrorEquals = { "E" }, MaxAttempts = 1 } },
      ItemProcessor = { StartAt = "F", States = { F = { Type = "Fail", Error = "E", Cause = "c" } } } } } }, { 1 })
    assert.equal("E", ex.error)
    assert.same({ "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted",
      "FailStateEntered", "MapIterationFailed", "MapStateStarted", "MapIterationStarted",
      "FailStateEntered", "MapIterationFailed", "MapStateFailed", "ExecutionFailed" }, types(ex))
  end)
end)

describe("workflow variables", function()
  it("assigns from the state's result, reads $name in later states, and records assignedVariables", function()
    local ex = run({ StartAt = "A", States = {
      A = { Type = "Pass", Result = { answer = 42 }, Assign = { ["theAnswer.$"] = "$.answer", fixed = "x" }, Next = "B" },
      B = { Type = "Pass", Parameters = { ["got.$"] = "$theAnswer", ["f.$"] = "States.Format('{}!', $fixed)" }, End = true } } }, {})
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"f":"x!","got":42}', ex:output_json())
    local h = ex:history().events
    local d = h[3].stateExitedEventDetails
    assert.equal("42", d.assignedVariables.theAnswer)
    assert.equal('"x"', d.assignedVariables.fixed)
    assert.is_false(d.assignedVariablesDetails.truncated)
  end)

  it("lets Map iterations read outer variables but keeps their own assignments inside", function()
    local ex = run({ StartAt = "A", States = {
      A = { Type = "Pass", Assign = { x = 42, items = { 1, 2 } }, Next = "M" },
      M = { Type = "Map", ItemsPath = "$items", Next = "C",
        ItemProcessor = { StartAt = "I", States = { I = { Type = "Pass", Assign = { ["inner.$"] = "$x" },
          Parameters = { ["v.$"] = "$x" }, End = true } } } },
      C = { Type = "Pass", Parameters = { ["x.$"] = "$x" }, End = true } } }, {})
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"x":42}', ex:output_json())
    local ex2 = run({ StartAt = "M", States = {
      M = { Type = "Map", ItemsPath = "$.items", Next = "C",
        ItemProcessor = { StartAt = "I", States = { I = { Type = "Pass", Assign = { inner = 1 }, End = true } } } },
      C = { Type = "Pass", Parameters = { ["v.$"] = "$inner" }, End = true } } }, { items = { 1 } })
    assert.equal("FAILED", ex2.status)
    assert.equal("States.Runtime", ex2.error)
  end)

  it("assigns in Choice rules, on Default, and in catchers", function()
    local def = { StartAt = "C", States = {
      C = { Type = "Choice", Assign = { status = "default" }, Default = "T",
        Choices = { { Variable = "$.n", NumericEquals = 1, Assign = { status = "one" }, Next = "T" } } },
      T = { Type = "Task", Resource = "r", Catch = { { ErrorEquals = { "States.ALL" },
        Assign = { ["err.$"] = "$.Error" }, Next = "Out" } }, Next = "Out" },
      Out = { Type = "Pass", Parameters = { ["status.$"] = "$status", ["e.$"] = "States.ArrayLength(States.Array($err))" }, End = true } } }
    local ex = run(def, { n = 1 }, { r = function() error({ Error = "Bad" }) end })
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"e":1,"status":"one"}', ex:output_json())
    ex = run(def, { n = 2 }, { r = function() error({ Error = "Bad" }) end })
    assert.equal('{"e":1,"status":"default"}', ex:output_json())
  end)
end)

describe("asynchronous tasks", function()
  local DEF = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true,
    Retry = { { ErrorEquals = { "States.HeartbeatTimeout" }, MaxAttempts = 0 } } } } }

  it("leaves a task pending when the handler returns orchestra.pending, answered later by token", function()
    local e = engine()
    local token
    e:handler("r", function(_, ctx) token = ctx.Task.Token return orchestra.pending end)
    local ex = e:load(DEF):start({})
    assert.equal("RUNNING", ex:wait())
    assert.is_string(token)
    e:task_success(token, { done = true })
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal('{"done":true}', ex:output_json())
    local ok, err = pcall(e.task_success, e, token, {})
    assert.is_false(ok)
    assert.equal("TaskDoesNotExist", err.code)
  end)

  it("fails a pending task by token, and .waitForTaskToken always waits", function()
    local e = engine()
    local token
    e:handler("arn:aws:states:::sqs:sendMessage.waitForTaskToken", function(input)
      token = input.token
      return { MessageId = "m1" } -- the send's own answer: not the task's result
    end)
    local ex = e:load({ StartAt = "T", States = { T = { Type = "Task",
      Resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      Parameters = { ["token.$"] = "$$.Task.Token" }, End = true } } }):start({})
    assert.equal("RUNNING", ex:wait())
    e:task_failure(token, "Rejected", "by a person")
    assert.equal("FAILED", ex:wait())
    assert.equal("Rejected", ex.error)
    assert.equal("by a person", ex.cause)
  end)

  it("resumes a handler that yields on later steps", function()
    local e = engine()
    local polls = 0
    e:handler("r", function(input)
      while polls < 3 do polls = polls + 1 coroutine.yield() end
      return { polls = polls, x = input.x }
    end)
    local ex = e:load(DEF):start({ x = 1 })
    local steps = 0
    while ex.status == "RUNNING" and steps < 20 do e:step() steps = steps + 1 end
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"polls":3,"x":1}', ex:output_json())
  end)

  it("times a pending task out with States.Timeout, and a missed heartbeat matches States.HeartbeatTimeout", function()
    local e = engine()
    local token, beat
    e:handler("r", function(_, ctx)
      token = ctx.Task.Token
      beat = pcall(e.task_heartbeat, e, token) -- a live token takes heartbeats
      return orchestra.pending
    end)
    local ex = e:load({ StartAt = "T", States = {
      T = { Type = "Task", Resource = "r", TimeoutSeconds = 60, HeartbeatSeconds = 10, End = true,
        Catch = { { ErrorEquals = { "States.HeartbeatTimeout" }, Next = "HB" } } },
      HB = { Type = "Pass", Result = "heartbeat missed", End = true } } }):start({})
    -- the virtual clock jumps to the heartbeat deadline: nobody answers
    assert.equal("SUCCEEDED", ex:wait())
    assert.is_true(beat)
    assert.equal('"heartbeat missed"', ex:output_json())
    local ok, err = pcall(e.task_success, e, token, {})
    assert.is_false(ok)
    assert.equal("TaskTimedOut", err.code)
    local t = types(ex)
    assert.equal("TaskTimedOut", t[5])

    local ex2 = e:load({ StartAt = "T", States = {
      T = { Type = "Task", Resource = "r", TimeoutSeconds = 5, End = true,
        Catch = { { ErrorEquals = { "States.HeartbeatTimeout" }, Next = "HB" } } },
      HB = { Type = "Pass", End = true } } }):start({})
    assert.equal("FAILED", ex2:wait()) -- a plain timeout is not a heartbeat timeout
    assert.equal("States.Timeout", ex2.error)
  end)
end)

describe("timeouts and retries", function()
  local function pending_engine()
    local e = engine()
    local calls = 0
    e:handler("slow", function() calls = calls + 1 return orchestra.pending end)
    return e, function() return calls end
  end

  it("gives each retried attempt its own TimeoutSeconds; the back-off does not count", function()
    local e, calls = pending_engine()
    local ex = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "slow",
      TimeoutSeconds = 5, End = true,
      Retry = { { ErrorEquals = { "States.Timeout" }, IntervalSeconds = 10, MaxAttempts = 2, BackoffRate = 2 } } } } }):start({})
    assert.equal("FAILED", ex:wait())
    assert.equal("States.Timeout", ex.error)
    assert.equal(3, calls())
    -- 5 s attempt, 10 s back-off, 5 s, 20 s, 5 s
    local scheduled, timed_out = 0, 0
    for ev in ex:events() do
      if ev.type == "TaskScheduled" then scheduled = scheduled + 1 end
      if ev.type == "TaskTimedOut" then timed_out = timed_out + 1 end
    end
    assert.equal(3, scheduled)
    assert.equal(3, timed_out)
    assert.equal(START + 45000, e:now())
  end)

  it("ends the execution TIMED_OUT when its TimeoutSeconds passes during a back-off", function()
    local e = engine()
    local calls = 0
    e:handler("busy", function() calls = calls + 1 error({ Error = "Busy" }) end)
    local ex = e:load({ TimeoutSeconds = 12, StartAt = "T", States = { T = { Type = "Task",
      Resource = "busy", End = true,
      Retry = { { ErrorEquals = { "Busy" }, IntervalSeconds = 30, MaxAttempts = 3 } } } } }):start({})
    assert.equal("TIMED_OUT", ex:wait())
    assert.equal(1, calls) -- the back-off of 30 s never ended
    local t = types(ex)
    assert.equal("ExecutionTimedOut", t[#t])
    assert.equal("TaskFailed", t[#t - 1])
    assert.equal(START + 12000, e:now())
  end)

  it("times out a retried attempt with TimeoutSecondsPath read again on each attempt", function()
    local e, calls = pending_engine()
    local ex = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "slow",
      TimeoutSecondsPath = "$.limit", End = true,
      Retry = { { ErrorEquals = { "States.Timeout" }, IntervalSeconds = 1, MaxAttempts = 1 } },
      Catch = { { ErrorEquals = { "States.Timeout" }, Next = "Late" } } },
      Late = { Type = "Pass", Result = "gave up", End = true } } }):start({ limit = 3 })
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal('"gave up"', ex:output_json())
    assert.equal(2, calls())
    assert.equal(START + 3000 + 1000 + 3000, e:now())
  end)
end)

describe("counters and options", function()
  it("counts transitions with any history setting, children included", function()
    local def = { StartAt = "A", States = { A = { Type = "Pass", Next = "M" },
      M = { Type = "Map", End = true, ItemProcessor = { StartAt = "X", States = {
        X = { Type = "Pass", Next = "Y" }, Y = { Type = "Pass", End = true } } } } } }
    for _, h in ipairs({ "full", "none", "last:2" }) do
      local ex = run(def, { 1, 2, 3 }, nil, { history = h })
      assert.equal("SUCCEEDED", ex.status)
      assert.equal(2 + 3 * 2, ex.transitions)
    end
  end)

  it("reports running executions, caps inline Maps with map_concurrency, and has a monotonic clock", function()
    local e = engine({ map_concurrency = 2 })
    local live, most = 0, 0
    e:handler("r", function() live = live + 1 most = math.max(most, live) coroutine.yield() live = live - 1 return 1 end)
    local m = e:load({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemProcessor = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } } } } })
    local ex = m:start({ 1, 2, 3, 4, 5 })
    assert.equal(1, e:running())
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal(2, most)
    assert.equal(0, e:running())
    -- orchestra.monotonic() counts seconds: over 50 ms of wall time (a real
    -- clock engine's now(), in ms) it advances by about 0.05
    local real = orchestra.engine({ clock = "real" })
    local t0, w0 = orchestra.monotonic(), real:now()
    assert.is_number(t0)
    local give_up = os.time() + 5
    while real:now() - w0 < 50 and os.time() < give_up do end
    local dt = orchestra.monotonic() - t0
    assert.is_true(real:now() - w0 >= 50, "the real clock did not advance")
    assert.is_true(dt >= 0.045 and dt < 5, "monotonic advanced by " .. dt .. " over 50 ms")
  end)
end)

describe("the work bound of a step", function()
  it("counts a task handed to a handler as ten transitions", function()
    local e = engine({ max_transitions_per_step = 100 })
    local calls = 0
    e:handler("r", function() calls = calls + 1 return orchestra.pending end)
    local m = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } })
    for _ = 1, 50 do m:start({}) end
    local left = e:step()
    assert.is_true(calls <= 10, "handlers run in one step: " .. calls)
    assert.is_true(calls >= 5, "handlers run in one step: " .. calls)
    assert.is_true(left > 0)
    local steps = 1
    while calls < 50 and steps < 100 do e:step() steps = steps + 1 end
    assert.equal(50, calls)
  end)

  it("fires at most its bound of due timers per step", function()
    local e = engine({ max_transitions_per_step = 20 })
    local m = e:load({ StartAt = "W", States = { W = { Type = "Wait", Seconds = 5, End = true } } })
    local exs = {}
    for i = 1, 100 do exs[i] = m:start({}) end
    local steps = 0
    while exs[100].status == "RUNNING" and steps < 1000 do e:step() steps = steps + 1 end
    for i = 1, 100 do assert.equal("SUCCEEDED", exs[i].status) end
    -- 100 entries, 100 timers and 100 exits at 20 units a step
    assert.is_true(steps >= 15, "steps: " .. steps)
  end)

  it("resumes at most a tenth of its bound of yielding handlers per step", function()
    local e = engine({ max_transitions_per_step = 50 })
    local resumed, stop = 0, false
    e:handler("poll", function()
      while not stop do coroutine.yield() resumed = resumed + 1 end
      return {}
    end)
    local m = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "poll", End = true } } })
    local exs = {}
    for i = 1, 20 do exs[i] = m:start({}) end
    e:step() e:step() e:step() -- all 20 dispatched and parked (5 per step)
    e:step() e:step()          -- the parked ones are resumed 5 at a time
    resumed = 0
    e:step()
    assert.equal(5, resumed)
    stop = true
    for _ = 1, 4 do e:step() end -- 20 parked, 5 resumed per step
    for i = 1, 20 do assert.equal("SUCCEEDED", exs[i].status) end
  end)
end)

describe("determinism", function()
  it("gives the same history, event order included, for the same seed under the virtual clock", function()
    local def = { StartAt = "P", States = {
      P = { Type = "Parallel", Next = "M", Branches = {
        { StartAt = "W", States = { W = { Type = "Wait", Seconds = 3, Next = "R" },
          R = { Type = "Pass", Parameters = { ["r.$"] = "States.MathRandom(1, 1000000)" }, End = true } } },
        { StartAt = "T", States = { T = { Type = "Task", Resource = "flaky", End = true,
          Retry = { { ErrorEquals = { "Busy" }, IntervalSeconds = 1, MaxAttempts = 3, JitterStrategy = "FULL" } } } } } } },
      M = { Type = "Map", ItemsPath = "$[1][0]", End = true, MaxConcurrency = 2,
        ItemSelector = { ["u.$"] = "States.UUID()", ["i.$"] = "$$.Map.Item.Index" },
        ItemProcessor = { StartAt = "X", States = { X = { Type = "Wait", Seconds = 1, End = true } } } } } }
    local function once()
      local calls = 0
      local ex = run(def, {}, { flaky = function()
        calls = calls + 1
        if calls < 3 then error({ Error = "Busy" }) end
        return { { 1, 2, 3 } }
      end }, { seed = 99 })
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      return ex:history_json():gsub('"Id":"[^"]*"', ""):gsub('"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"', "UUIDNAME", 0)
    end
    local a, b = once(), once()
    assert.equal(a, b)
    assert.matches("MapIterationStarted", a)
    assert.matches("orchestraReplay", a)
  end)
end)

describe("nested workflows", function()
  local CHILD = { StartAt = "C", States = { C = { Type = "Pass",
    Parameters = { ["doubled.$"] = "States.MathAdd($.n, $.n)" }, End = true } } }
  local FAILING = { StartAt = "F", States = { F = { Type = "Fail", Error = "ChildError", Cause = "no" } } }

  local function parent(resource, arn)
    return { StartAt = "Start", States = { Start = { Type = "Task", Resource = resource,
      Parameters = { StateMachineArn = arn, Input = { ["n.$"] = "$.n" } }, End = true } } }
  end

  it("runs a child with .sync:2 and returns its description with Output as JSON", function()
    local e = engine()
    local child = e:load(CHILD, { name = "Child" })
    local ex = e:load(parent("arn:aws:states:::states:startExecution.sync:2", child.arn)):start({ n = 21 })
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    local out = ex.output
    assert.equal("SUCCEEDED", out.Status)
    assert.same({ doubled = 42 }, out.Output)
    assert.equal(child.arn, out.StateMachineArn)
    assert.matches("^arn:aws:states:us%-east%-1:123456789012:execution:Child:", out.ExecutionArn)
    local t = types(ex)
    assert.same({ "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
      "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded" }, t)
  end)

  it("gives Output as JSON text with .sync, and fails with States.TaskFailed when the child fails", function()
    local e = engine()
    e:load(CHILD, { name = "Child" })
    local ex = e:load(parent("arn:aws:states:::states:startExecution.sync", "Child")):start({ n = 1 })
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal('{"doubled":2}', ex.output.Output)
    local bad = e:load(FAILING, { name = "Bad" })
    ex = e:load(parent("arn:aws:states:::states:startExecution.sync", bad.arn)):start({ n = 1 })
    assert.equal("FAILED", ex:wait())
    assert.equal("States.TaskFailed", ex.error)
    assert.matches('"Error":"ChildError"', ex.cause)
  end)

  it("links the child to its parent both ways", function()
    local e = engine()
    local child = e:load(CHILD, { name = "Child" })
    local ex = e:load(parent("arn:aws:states:::states:startExecution.sync:2", child.arn)):start({ n = 2 })
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    local submitted
    for ev in ex:events() do
      if ev.type == "TaskSubmitted" then submitted = json.decode(ev.taskSubmittedEventDetails.output) end
    end
    local kids = ex:children()
    assert.equal(1, #kids)
    assert.equal(submitted.ExecutionArn, kids[1].arn)  -- the parent's event names the child
    assert.equal(ex.arn, kids[1].parent_arn)          -- the child knows its parent
    assert.equal("SUCCEEDED", kids[1].status)
    assert.same({ doubled = 4 }, kids[1].output)
    local t = {}
    for _, ev in ipairs(kids[1].history.events) do t[#t + 1] = ev.type end
    assert.same({ "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded" }, t)
    assert.is_nil(ex.parent_arn)
  end)

  it("lets the child's $$.Execution name its parent as Step Functions does", function()
    local e = engine()
    e:load({ StartAt = "C", States = { C = { Type = "Pass",
      Parameters = { ["parent.$"] = "$$.Execution.Input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" },
      End = true } } }, { name = "Child" })
    local ex = e:load({ StartAt = "Start", States = { Start = { Type = "Task",
      Resource = "arn:aws:states:::states:startExecution.sync:2",
      Parameters = { StateMachineArn = "Child",
        Input = { ["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"] = "$$.Execution.Id" } },
      End = true } } }):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.same({ parent = ex.arn }, ex.output.Output)
  end)

  it("returns at once without .sync, and reports an unknown machine", function()
    local e = engine()
    local child = e:load(CHILD, { name = "Child" })
    local ex = e:load(parent("arn:aws:states:::states:startExecution", child.arn)):start({ n = 1 })
    assert.equal("SUCCEEDED", ex:wait())
    assert.is_string(ex.output.ExecutionArn)
    assert.is_string(ex.output.StartDate)
    ex = e:load(parent("arn:aws:states:::states:startExecution.sync", "Nope")):start({ n = 1 })
    assert.equal("FAILED", ex:wait())
    assert.equal("StepFunctions.StateMachineDoesNotExistException", ex.error)
  end)
end)
