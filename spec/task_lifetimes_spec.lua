-- Task lifetimes (issue 8, part 1): a handler that stops, closes or answers
-- its own execution's task while the engine still holds that task. None of
-- these may crash or read freed memory (`make test-asan` runs this spec
-- under AddressSanitizer), and each has one documented outcome:
-- - the handler stops its own execution: the stop wins, the execution ends
--   ABORTED with ExecutionAborted last, what the handler returns or raises
--   afterwards is ignored;
-- - the handler answers its own task by token and then returns: the first
--   answer wins, the returned value is ignored, a later answer by token
--   raises {code = "TaskDoesNotExist"};
-- - ex:close() on a RUNNING execution (from its own handler or from the
--   host) stops it (ABORTED) and releases it; from inside a step the core
--   frees it when the step ends, so nothing up the stack holds freed memory.
-- Each case is its own `it` so that one crash can be run alone
-- (`busted --filter '...'`): a segfault ends the whole busted process.
local orchestra = require "orchestra"

local START = 1700000000000

local function engine()
  return orchestra.engine({ clock = "virtual", start_time = START, seed = 1 })
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function has(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

-- One Task state "T" on resource "r".
local ONE_TASK = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } }

-- The engine goes on after the case: a fresh execution on the same engine
-- runs to its end.
local function engine_still_works(e)
  local ex = e:load({ StartAt = "P", States = { P = { Type = "Pass", Result = "ok", End = true } } })
    :start({})
  assert.equal("SUCCEEDED", ex:wait())
  assert.equal('"ok"', ex:output_json())
end

-- An ABORTED execution whose history ends with ExecutionAborted and holds
-- no result of the task (neither TaskSucceeded nor TaskFailed).
local function assert_aborted(ex, error, cause)
  assert.equal("ABORTED", ex.status)
  assert.equal(error, ex.error)
  assert.equal(cause, ex.cause)
  local t = types(ex)
  assert.equal("ExecutionAborted", t[#t])
  assert.is_false(has(t, "TaskSucceeded"), table.concat(t, " "))
  assert.is_false(has(t, "TaskFailed"), table.concat(t, " "))
  assert.is_false(has(t, "TaskStateExited"), table.concat(t, " "))
  assert.is_nil(ex.output)
end

describe("a handler that stops its own execution", function()
  it("and then returns a value: no crash, the execution ends ABORTED, the value is ignored", function()
    local e = engine()
    local ex, returned
    e:handler("r", function()
      ex:stop("Stopped", "by its own handler")
      returned = true
      return { ignored = true }
    end)
    ex = e:load(ONE_TASK):start({})
    assert.equal("ABORTED", ex:wait())
    assert.is_true(returned)
    assert_aborted(ex, "Stopped", "by its own handler")
    assert.equal(0, e:running())
    engine_still_works(e)
  end)

  it("and then raises an error: no crash, the execution ends ABORTED, the error is ignored", function()
    local e = engine()
    local ex
    e:handler("r", function()
      ex:stop("Stopped", "then raised")
      error({ Error = "Handler.Boom", Cause = "raised after the stop" })
    end)
    ex = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true,
      Catch = { { ErrorEquals = { "States.ALL" }, Next = "Caught" } } },
      Caught = { Type = "Pass", End = true } } }):start({})
    assert.equal("ABORTED", ex:wait())
    assert_aborted(ex, "Stopped", "then raised")
    assert.is_false(has(types(ex), "PassStateEntered")) -- the Catch never ran
    engine_still_works(e)
  end)

  it("and then raises a plain Lua error: the execution ends ABORTED", function()
    local e = engine()
    local ex
    e:handler("r", function()
      ex:stop()
      error("plain error after the stop")
    end)
    ex = e:load(ONE_TASK):start({})
    assert.equal("ABORTED", ex:wait())
    assert_aborted(ex, nil, nil)
    engine_still_works(e)
  end)

  it("from a yielding handler, then yields and returns later: ABORTED, the value is ignored", function()
    local e = engine()
    local ex, resumed_after_stop = nil, false
    e:handler("r", function()
      ex:stop("Stopped", "while parked")
      coroutine.yield()
      resumed_after_stop = true
      return { ignored = true }
    end)
    ex = e:load(ONE_TASK):start({})
    for _ = 1, 10 do e:step() end
    assert_aborted(ex, "Stopped", "while parked")
    assert.equal(0, e:running())
    -- whether the parked coroutine is resumed or dropped, it changes nothing
    assert.is_boolean(resumed_after_stop)
    engine_still_works(e)
  end)
end)

describe("a yielding handler whose execution the host stops while it is parked", function()
  it("ends ABORTED and its later return is ignored", function()
    local e = engine()
    local calls, done = 0, false
    e:handler("r", function()
      calls = calls + 1
      coroutine.yield()
      coroutine.yield()
      done = true
      return { ignored = true }
    end)
    local ex = e:load(ONE_TASK):start({})
    local steps = 0
    while calls == 0 and steps < 10 do e:step() steps = steps + 1 end
    assert.equal(1, calls)
    assert.equal("RUNNING", ex.status) -- parked in its first yield
    ex:stop("Cancelled", "by the host")
    for _ = 1, 10 do e:step() end
    assert_aborted(ex, "Cancelled", "by the host")
    assert.equal(1, calls)
    assert.is_boolean(done)
    engine_still_works(e)
  end)

  it("ends ABORTED when the host stops it and then closes the handle while it is parked", function()
    local e = engine()
    local calls = 0
    e:handler("r", function()
      calls = calls + 1
      coroutine.yield()
      return { ignored = true }
    end)
    local ex = e:load(ONE_TASK):start({})
    local steps = 0
    while calls == 0 and steps < 10 do e:step() steps = steps + 1 end
    ex:stop("Cancelled", "then closed")
    ex:close()
    for _ = 1, 10 do e:step() end
    assert.equal(0, e:running())
    engine_still_works(e)
  end)
end)

describe("ex:close() on a RUNNING execution", function()
  -- ex:close() stops a running execution and releases it (orc_execution_close);
  -- from inside its own handler the core defers the free to the end of the
  -- step, so the handler's caller still holds valid memory.
  local TWO_TASKS = { StartAt = "T1", States = {
    T1 = { Type = "Task", Resource = "r1", Next = "T2" },
    T2 = { Type = "Task", Resource = "r2", End = true } } }

  it("called from inside its own handler stops it (the close wins) and frees it after the step", function()
    local e = engine()
    local ex, closed, seen
    e:handler("r1", function()
      if not closed then closed = { pcall(ex.close, ex) } end
      return { v = 1 }
    end)
    e:handler("r2", function(input) seen = input return { done = true } end)
    local m = e:load(TWO_TASKS)
    ex = m:start({}, { name = "closing" })
    assert.equal(0, e:run())
    assert.is_true(closed[1], tostring(closed[2]))
    assert.is_nil(seen) -- T2 never ran: the returned value was ignored
    assert.equal(0, e:running())
    -- the name is free again: the execution was released
    local again = m:start({}, { name = "closing" })
    assert.equal("SUCCEEDED", again:wait()) -- the second run is not closed
    assert.same({ v = 1 }, seen)
    engine_still_works(e)
  end)

  it("called by the host between steps stops it and releases it", function()
    local e = engine()
    local seen
    e:handler("r1", function() seen = true return { v = 2 } end)
    e:handler("r2", function() return { done = true } end)
    local ex = e:load({ StartAt = "W", States = {
      W = { Type = "Wait", Seconds = 10, Next = "T1" },
      T1 = { Type = "Task", Resource = "r1", Next = "T2" },
      T2 = { Type = "Task", Resource = "r2", End = true } } }):start({})
    e:step()
    assert.equal(1, e:running())
    ex:close()
    assert.equal(0, e:running())
    assert.equal(0, e:run())
    assert.is_nil(seen)
    engine_still_works(e)
  end)
end)

describe("a handler that answers its own task by token", function()
  it("with task_success and then returns: the token's output wins, the returned value is ignored", function()
    local e = engine()
    local token
    e:handler("r", function(_, ctx)
      token = ctx.Task.Token
      e:task_success(token, { from = "token" })
      return { from = "return" }
    end)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal('{"from":"token"}', ex:output_json())
    local t = types(ex)
    local succeeded = 0
    for _, ty in ipairs(t) do if ty == "TaskSucceeded" then succeeded = succeeded + 1 end end
    assert.equal(1, succeeded)
    assert.equal("ExecutionSucceeded", t[#t])
    engine_still_works(e)
  end)

  it("with task_success: a second task_success on the token raises TaskDoesNotExist", function()
    local e = engine()
    local token
    e:handler("r", function(_, ctx)
      token = ctx.Task.Token
      e:task_success(token, { n = 1 })
      return { n = 2 }
    end)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    local ok, err = pcall(e.task_success, e, token, { n = 3 })
    assert.is_false(ok)
    assert.is_table(err)
    assert.equal("TaskDoesNotExist", err.code)
    assert.equal('{"n":1}', ex:output_json())
  end)

  it("twice inside the handler: the second task_success raises TaskDoesNotExist", function()
    local e = engine()
    local second
    e:handler("r", function(_, ctx)
      e:task_success(ctx.Task.Token, { n = 1 })
      second = { pcall(e.task_success, e, ctx.Task.Token, { n = 2 }) }
      return { n = 3 }
    end)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.is_false(second[1])
    assert.is_table(second[2])
    assert.equal("TaskDoesNotExist", second[2].code)
    assert.equal('{"n":1}', ex:output_json())
  end)

  it("with task_failure and then returns: the execution fails with that error, the value is ignored", function()
    local e = engine()
    local token
    e:handler("r", function(_, ctx)
      token = ctx.Task.Token
      e:task_failure(token, "E", "C")
      return { from = "return" }
    end)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("FAILED", ex:wait())
    assert.equal("E", ex.error)
    assert.equal("C", ex.cause)
    assert.is_false(has(types(ex), "TaskSucceeded"))
    local ok, err = pcall(e.task_success, e, token, {})
    assert.is_false(ok)
    assert.equal("TaskDoesNotExist", err.code)
    engine_still_works(e)
  end)

  it("with task_failure and then returns: a Catch on the error catches it", function()
    local e = engine()
    e:handler("r", function(_, ctx)
      e:task_failure(ctx.Task.Token, "E", "C")
      return { from = "return" }
    end)
    local ex = e:load({ StartAt = "T", States = {
      T = { Type = "Task", Resource = "r", Next = "Done",
        Catch = { { ErrorEquals = { "E" }, ResultPath = "$.err", Next = "Caught" } } },
      Done = { Type = "Pass", Result = "not caught", End = true },
      Caught = { Type = "Pass", End = true } } }):start({ x = 1 })
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.same({ x = 1, err = { Error = "E", Cause = "C" } }, ex.output)
  end)

  it("with task_success and then raises: the token's output wins, the error is ignored", function()
    local e = engine()
    e:handler("r", function(_, ctx)
      e:task_success(ctx.Task.Token, { from = "token" })
      error({ Error = "Late.Error", Cause = "raised after the answer" })
    end)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal('{"from":"token"}', ex:output_json())
    assert.is_false(has(types(ex), "TaskFailed"))
  end)

  it("with task_success from a yielding handler and then returns after the yield: the first answer wins", function()
    local e = engine()
    e:handler("r", function(_, ctx)
      e:task_success(ctx.Task.Token, { from = "token" })
      coroutine.yield()
      return { from = "return" }
    end)
    local ex = e:load(ONE_TASK):start({})
    for _ = 1, 10 do e:step() end
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal('{"from":"token"}', ex:output_json())
    engine_still_works(e)
  end)
end)

describe("the same pattern elsewhere", function()
  it("a handler inside a Map iteration stops the execution: ABORTED, the other iterations end", function()
    local e = engine()
    local ex, calls = nil, 0
    e:handler("r", function(input)
      calls = calls + 1
      if input == 2 then ex:stop("Stopped", "from iteration 2") end
      return input
    end)
    ex = e:load({ StartAt = "M", States = { M = { Type = "Map", End = true, MaxConcurrency = 1,
      ItemProcessor = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } } } } })
      :start({ 1, 2, 3 })
    assert.equal("ABORTED", ex:wait())
    assert.equal("Stopped", ex.error)
    local t = types(ex)
    assert.equal("ExecutionAborted", t[#t])
    assert.equal(2, calls) -- iteration 3 never started
    assert.equal(0, e:running())
    engine_still_works(e)
  end)

  it("a handler inside a Parallel branch stops the execution while the other branch's task is pending", function()
    local e = engine()
    local ex
    e:handler("slow", function() return orchestra.pending end)
    e:handler("r", function() ex:stop("Stopped", "from a branch") return 1 end)
    ex = e:load({ StartAt = "P", States = { P = { Type = "Parallel", End = true, Branches = {
      { StartAt = "S", States = { S = { Type = "Task", Resource = "slow", End = true } } },
      { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } } } } } }):start({})
    assert.equal("ABORTED", ex:wait())
    assert.equal("Stopped", ex.error)
    assert.equal(0, e:running())
    engine_still_works(e)
  end)

  it("a handler stops another execution whose task is pending: that one ends ABORTED", function()
    local e = engine()
    local other, other_token
    e:handler("slow", function(_, ctx) other_token = ctx.Task.Token return orchestra.pending end)
    e:handler("r", function() other:stop("Stopped", "by a sibling") return { done = true } end)
    other = e:load({ StartAt = "S", States = { S = { Type = "Task", Resource = "slow", End = true } } }):start({})
    e:step()
    assert.is_string(other_token)
    local ex = e:load(ONE_TASK):start({})
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal("ABORTED", other.status)
    local ok, err = pcall(e.task_success, e, other_token, {})
    assert.is_false(ok)
    assert.equal("TaskDoesNotExist", err.code)
  end)

  it("a child's handler stops the parent that waits on it with .sync:2: the parent ends ABORTED", function()
    local e = engine()
    local parent
    e:handler("r", function() parent:stop("Stopped", "by the child's task") return { child = true } end)
    e:load(ONE_TASK, { name = "Child" })
    parent = e:load({ StartAt = "Run", States = { Run = { Type = "Task",
      Resource = "arn:aws:states:::states:startExecution.sync:2",
      Parameters = { StateMachineArn = "Child", Input = {} }, End = true } } }):start({})
    e:run()
    assert.equal("ABORTED", parent.status)
    assert.equal("Stopped", parent.error)
    assert.equal(0, e:running())
    engine_still_works(e)
  end)

  it("a resolver that stops the execution reading through it: ABORTED, no crash", function()
    local helper = require "spec.helper"
    local dir = helper.tmpdir()
    helper.run("mkdir -p " .. helper.shell_quote(dir .. "/bkt"), true)
    helper.write(dir .. "/bkt/items.json", "[1, 2, 3]")
    local ex
    local e = orchestra.engine({ clock = "virtual", seed = 1, resolver = function(bucket, key)
      ex:stop("Stopped", "by the resolver")
      return dir .. "/" .. bucket .. "/" .. key
    end })
    ex = e:load({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemReader = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = { InputType = "JSON" },
        Parameters = { Bucket = "bkt", Key = "items.json" } },
      ItemProcessor = { ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" },
        StartAt = "P", States = { P = { Type = "Pass", End = true } } } } } }):start({})
    local status = ex:wait()
    helper.run("rm -rf " .. helper.shell_quote(dir), true)
    assert.equal("ABORTED", status)
    assert.equal("Stopped", ex.error)
    assert.equal(0, e:running())
  end)
end)
