-- Clocks (issue 8, part 3).
-- The virtual clock and asynchronous tasks: time jumps only when a step
-- begins with nothing runnable and nothing posted, so a host always has the
-- interval between two engine:step() calls to answer a task it was handed.
-- The manual clock (clock = "manual"): time moves only by
-- engine:advance(ms); timers that one advance passes fire in order, at
-- their own due times, and the history's timestamps follow.
local orchestra = require "orchestra"

local START = 1700000000000 -- 2023-11-14T22:13:20Z, a whole second

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function has(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

-- The first event of a type (and its index), or nil.
local function event(ex, type)
  local i = 0
  for ev in ex:events() do
    i = i + 1
    if ev.type == type then return ev, i end
  end
end

-- Step until ex ends or guard steps pass; returns the number of steps.
local function step_until_done(e, ex, guard)
  local n = 0
  while ex.status == "RUNNING" and n < (guard or 100) do e:step() n = n + 1 end
  return n
end

describe("the virtual clock and asynchronous tasks", function()
  local function pending_engine()
    local e = orchestra.engine({ clock = "virtual", start_time = START, seed = 1 })
    local tokens = {}
    e:handler("r", function(input, ctx)
      tokens[#tokens + 1] = { token = ctx.Task.Token, input = input }
      return orchestra.pending
    end)
    return e, tokens
  end

  local function one_task(fields)
    local t = { Type = "Task", Resource = "r", End = true }
    for k, v in pairs(fields) do t[k] = v end
    return { StartAt = "T", States = { T = t } }
  end

  it("leaves a pending task with TimeoutSeconds 3600 answerable after the step that dispatched it", function()
    local e, tokens = pending_engine()
    local ex = e:load(one_task({ TimeoutSeconds = 3600 })):start({ a = 1 })
    e:step()
    assert.equal(1, #tokens)
    assert.equal(START, e:now()) -- no jump inside the dispatching step
    local ok, err = pcall(e.task_success, e, tokens[1].token, { answered = true })
    assert.is_true(ok, type(err) == "table" and err.code or tostring(err))
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal('{"answered":true}', ex:output_json())
    assert.is_false(has(types(ex), "TaskTimedOut"))
    assert.equal(START, e:now())
  end)

  it("leaves a pending task with HeartbeatSeconds answerable after the step that dispatched it", function()
    local e, tokens = pending_engine()
    local ex = e:load(one_task({ HeartbeatSeconds = 60 })):start({})
    e:step()
    assert.equal(1, #tokens)
    local ok, err = pcall(e.task_heartbeat, e, tokens[1].token)
    assert.is_true(ok, type(err) == "table" and err.code or tostring(err))
    ok, err = pcall(e.task_success, e, tokens[1].token, { beat = true })
    assert.is_true(ok, type(err) == "table" and err.code or tostring(err))
    assert.equal("SUCCEEDED", ex:wait(), ex.cause)
    assert.equal('{"beat":true}', ex:output_json())
    assert.is_false(has(types(ex), "TaskTimedOut"))
  end)

  it("leaves a task pending with both TimeoutSeconds and HeartbeatSeconds answerable between steps", function()
    local e, tokens = pending_engine()
    local ex = e:load(one_task({ TimeoutSeconds = 3600, HeartbeatSeconds = 600 })):start({})
    e:step()
    assert.equal(1, #tokens)
    local ok, err = pcall(e.task_failure, e, tokens[1].token, "Host.Failed", "answered in time")
    assert.is_true(ok, type(err) == "table" and err.code or tostring(err))
    assert.equal("FAILED", ex:wait())
    assert.equal("Host.Failed", ex.error)
    assert.equal("answered in time", ex.cause)
  end)

  it("lets the host answer an inline Map's iterations, each waiting on a token, between steps", function()
    local e, tokens = pending_engine()
    local ex = e:load({ StartAt = "M", States = { M = { Type = "Map", End = true, MaxConcurrency = 2,
      ItemProcessor = { StartAt = "T", States = { T = { Type = "Task", Resource = "r",
        TimeoutSeconds = 3600, HeartbeatSeconds = 60, End = true } } } } } }):start({ 1, 2, 3, 4, 5 })
    local answered, steps, refused = 0, 0, {}
    while ex.status == "RUNNING" and steps < 100 do
      e:step()
      steps = steps + 1
      for i = answered + 1, #tokens do
        local ok, err = pcall(e.task_success, e, tokens[i].token, { doubled = tokens[i].input * 2 })
        if not ok then refused[#refused + 1] = type(err) == "table" and err.code or tostring(err) end
      end
      answered = #tokens
    end
    assert.same({}, refused)
    assert.equal(5, #tokens)
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ { doubled = 2 }, { doubled = 4 }, { doubled = 6 }, { doubled = 8 }, { doubled = 10 } },
      ex.output)
    assert.is_false(has(types(ex), "TaskTimedOut"))
    assert.equal(START, e:now())
  end)

  it("still jumps when the host keeps stepping without answering: the task times out 3600 s later", function()
    local e, tokens = pending_engine()
    local ex = e:load(one_task({ TimeoutSeconds = 3600 })):start({})
    local steps = step_until_done(e, ex, 20)
    assert.is_true(steps >= 2, "timed out in the step that dispatched the task")
    assert.equal(1, #tokens)
    assert.equal("FAILED", ex.status)
    assert.equal("States.Timeout", ex.error)
    local scheduled = event(ex, "TaskScheduled")
    local timed_out = event(ex, "TaskTimedOut")
    assert.is_not_nil(timed_out)
    assert.equal(START / 1000, scheduled.timestamp)
    assert.equal(START / 1000 + 3600, timed_out.timestamp)
    assert.equal(START + 3600000, e:now())
    local ok, err = pcall(e.task_success, e, tokens[1].token, {})
    assert.is_false(ok)
    assert.equal("TaskTimedOut", err.code)
  end)

  it("still jumps for a missed heartbeat: States.Timeout 60 s after the dispatch", function()
    local e, tokens = pending_engine()
    local ex = e:load(one_task({ HeartbeatSeconds = 60 })):start({})
    step_until_done(e, ex, 20)
    assert.equal(1, #tokens)
    assert.equal("FAILED", ex.status)
    assert.equal("States.Timeout", ex.error)
    assert.equal(START / 1000 + 60, event(ex, "TaskTimedOut").timestamp)
  end)
end)

describe("the manual clock", function()
  local function manual(opts)
    opts = opts or {}
    opts.clock = "manual"
    opts.start_time = START
    opts.seed = 1
    return orchestra.engine(opts)
  end

  local WAIT10 = { StartAt = "W", States = { W = { Type = "Wait", Seconds = 10, End = true } } }

  it("is an engine option, and engine:now() starts at start_time", function()
    local e = manual()
    assert.equal(START, e:now())
    assert.is_function(e.advance)
  end)

  it("moves time only by engine:advance: a Wait of 10 s does not end after many steps", function()
    local e = manual()
    local ex = e:load(WAIT10):start({})
    for _ = 1, 200 do e:step() end
    assert.equal("RUNNING", ex.status)
    assert.equal(START, e:now())
    assert.equal(10000, e:next_deadline())
  end)

  it("ends the Wait when the advances add up to 10 s, not before", function()
    local e = manual()
    local ex = e:load(WAIT10):start({})
    e:step()
    e:advance(4000)
    for _ = 1, 50 do e:step() end
    assert.equal("RUNNING", ex.status)
    assert.equal(START + 4000, e:now())
    assert.equal(6000, e:next_deadline())
    e:advance(6000)
    e:step()
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal(START + 10000, e:now())
    local h = ex:history().events
    assert.equal("ExecutionStarted", h[1].type)
    assert.equal(START / 1000, h[1].timestamp)
    assert.equal("WaitStateExited", h[3].type)
    assert.equal(START / 1000 + 10, h[3].timestamp)
    assert.equal(START / 1000 + 10, h[4].timestamp)
  end)

  it("fires the timers one advance passes in order, each at its own due time", function()
    local e = manual()
    local calls = {}
    e:handler("r", function(input) calls[#calls + 1] = input.who return input.who end)
    local function waiting(seconds)
      return { StartAt = "W", States = {
        W = { Type = "Wait", Seconds = seconds, Next = "T" },
        T = { Type = "Task", Resource = "r", End = true } } }
    end
    -- the later timer is set first, so start order does not decide
    local five = e:load(waiting(5)):start({ who = "five" })
    local three = e:load(waiting(3)):start({ who = "three" })
    e:step()
    e:advance(10000)
    local steps = 0
    while e:running() > 0 and steps < 50 do e:step() steps = steps + 1 end
    assert.equal("SUCCEEDED", three.status, three.cause)
    assert.equal("SUCCEEDED", five.status, five.cause)
    assert.same({ "three", "five" }, calls)
    assert.equal(START / 1000 + 3, event(three, "WaitStateExited").timestamp)
    assert.equal(START / 1000 + 5, event(five, "WaitStateExited").timestamp)
    assert.is_true(event(three, "ExecutionSucceeded").timestamp
      < event(five, "ExecutionSucceeded").timestamp)
    assert.equal(START + 10000, e:now())
  end)

  it("times a pending task out only when an advance passes its TimeoutSeconds", function()
    local e = manual()
    local token
    e:handler("r", function(_, ctx) token = ctx.Task.Token return orchestra.pending end)
    local ex = e:load({ StartAt = "T", States = { T = { Type = "Task", Resource = "r",
      TimeoutSeconds = 5, End = true } } }):start({})
    for _ = 1, 100 do e:step() end
    assert.equal("RUNNING", ex.status)
    assert.is_string(token)
    e:advance(4999)
    for _ = 1, 10 do e:step() end
    assert.equal("RUNNING", ex.status)
    e:advance(1)
    e:step()
    assert.equal("FAILED", ex.status)
    assert.equal("States.Timeout", ex.error)
    assert.equal(START / 1000 + 5, event(ex, "TaskTimedOut").timestamp)
    local ok, err = pcall(e.task_success, e, token, {})
    assert.is_false(ok)
    assert.equal("TaskTimedOut", err.code)
  end)

  it("lets ex:wait() return RUNNING instead of sleeping or jumping while only a timer is left", function()
    local e = manual()
    local ex = e:load(WAIT10):start({})
    assert.equal("RUNNING", ex:wait())
    assert.equal(START, e:now())
    e:advance(10000)
    assert.equal("SUCCEEDED", ex:wait())
  end)

  it("refuses a negative advance with a clear error", function()
    local e = manual()
    local ok, err = pcall(e.advance, e, -1)
    assert.is_false(ok)
    assert.matches("advance", tostring(type(err) == "table" and err.message or err))
    assert.equal(START, e:now())
  end)
end)
