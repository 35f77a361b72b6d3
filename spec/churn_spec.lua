-- Memory under churn (issue 8, part 3): a long-running host starts and
-- closes executions for weeks, so the engine's internal tables must stay
-- bounded by what is alive, not grow with what has ever run.
-- engine:stats() reports them: task_slots (capacity of the task-token hash
-- table), name_slots (capacity of the execution-name hash table) and
-- expired_tokens (timed-out tokens remembered so that a late answer gets
-- TaskTimedOut). 200,000 cycles per case; bench/soak.lua runs millions and
-- prints RSS.
local orchestra = require "orchestra"

local CYCLES = 200000
local SAMPLE = 10000 -- read the stats every SAMPLE cycles
local BOUND = 1024   -- slots allowed with at most a few executions alive

local ONE_TASK = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } }
local TIMING_OUT = { StartAt = "T", States = { T = { Type = "Task", Resource = "r",
  TimeoutSeconds = 1, End = true } } }

local function engine()
  return orchestra.engine({ clock = "virtual", history = "none", seed = 1,
    start_time = 1700000000000 })
end

local function stats(e)
  assert.is_function(e.stats, "engine:stats() does not exist")
  local s = e:stats()
  assert.is_table(s)
  for _, k in ipairs({ "task_slots", "name_slots", "expired_tokens" }) do
    assert.is_number(s[k], "engine:stats()." .. k)
    assert.is_true(s[k] >= 0, k)
  end
  return s
end

-- The largest figures seen over the run, sampled every SAMPLE cycles.
local function track(most, s)
  for k, v in pairs(s) do
    if type(v) == "number" and (most[k] == nil or v > most[k]) then most[k] = v end
  end
end

describe("the engine's tables under churn", function()
  it("stay bounded over 200,000 start -> wait -> close cycles of a one-Task machine", function()
    local e = engine()
    e:handler("r", function(input) return input end)
    local m = e:load(ONE_TASK)
    local most = {}
    track(most, stats(e))
    for i = 1, CYCLES do
      local ex = m:start({ i = i })
      if ex:wait() ~= "SUCCEEDED" then error("cycle " .. i .. ": " .. tostring(ex.status)) end
      ex:close()
      if i % SAMPLE == 0 then track(most, stats(e)) end
    end
    assert.is_true(most.task_slots <= BOUND, "task_slots reached " .. most.task_slots)
    assert.is_true(most.name_slots <= BOUND, "name_slots reached " .. most.name_slots)
    assert.equal(0, stats(e).expired_tokens)
    assert.equal(0, e:running())
  end)

  it("stay bounded when the handles are dropped instead of closed", function()
    local e = engine()
    e:handler("r", function(input) return input end)
    local m = e:load(ONE_TASK)
    for i = 1, CYCLES do
      local ex = m:start({ i = i })
      if ex:wait() ~= "SUCCEEDED" then error("cycle " .. i .. ": " .. tostring(ex.status)) end
    end
    collectgarbage("collect")
    collectgarbage("collect")
    local s = stats(e)
    assert.is_true(s.task_slots <= BOUND, "task_slots " .. s.task_slots)
    assert.is_true(s.name_slots <= BOUND, "name_slots " .. s.name_slots)
  end)

  it("stay bounded with 16 executions alive at a time, their tasks answered by token", function()
    local e = engine()
    local tokens = {}
    e:handler("r", function(_, ctx) tokens[#tokens + 1] = ctx.Task.Token return orchestra.pending end)
    local m = e:load(ONE_TASK)
    local ring, most = {}, {}
    for i = 1, CYCLES do
      ring[#ring + 1] = m:start({ i = i })
      if #ring == 16 then
        e:step()
        for j = 1, #tokens do e:task_success(tokens[j], { j = j }) end
        tokens = {}
        for j = 1, #ring do
          if ring[j]:wait() ~= "SUCCEEDED" then error("cycle " .. i .. ": " .. tostring(ring[j].status)) end
          ring[j]:close()
        end
        ring = {}
      end
      if i % SAMPLE == 0 then track(most, stats(e)) end
    end
    assert.is_true(most.task_slots <= BOUND, "task_slots reached " .. most.task_slots)
    assert.is_true(most.name_slots <= BOUND, "name_slots reached " .. most.name_slots)
  end)

  it("forget timed-out tokens as their executions close: 200,000 tasks timing out stay bounded", function()
    local e = engine()
    local last
    e:handler("r", function(_, ctx) last = ctx.Task.Token return orchestra.pending end)
    local m = e:load(TIMING_OUT)
    local most = {}
    for i = 1, CYCLES do
      local ex = m:start({ i = i })
      if ex:wait() ~= "FAILED" or ex.error ~= "States.Timeout" then
        error("cycle " .. i .. ": " .. tostring(ex.status) .. " " .. tostring(ex.error))
      end
      ex:close()
      if i % SAMPLE == 0 then track(most, stats(e)) end
    end
    assert.is_true(most.expired_tokens <= BOUND, "expired_tokens reached " .. most.expired_tokens)
    assert.is_true(most.task_slots <= BOUND, "task_slots reached " .. most.task_slots)
    assert.is_true(most.name_slots <= BOUND, "name_slots reached " .. most.name_slots)
    -- an unknown token is refused at once, however many tasks timed out
    local ok, err = pcall(e.task_success, e, "no-such-token", {})
    assert.is_false(ok)
    assert.equal("TaskDoesNotExist", err.code)
    assert.is_string(last)
  end)

  it("still answer TaskTimedOut for the token of a timed-out task whose execution is open", function()
    local e = engine()
    local token
    e:handler("r", function(_, ctx) token = ctx.Task.Token return orchestra.pending end)
    local m = e:load(TIMING_OUT)
    local kept = m:start({ keep = true })
    assert.equal("FAILED", kept:wait())
    local kept_token = token
    for i = 1, 20000 do
      local ex = m:start({ i = i })
      ex:wait()
      ex:close()
    end
    local ok, err = pcall(e.task_success, e, kept_token, {})
    assert.is_false(ok)
    assert.equal("TaskTimedOut", err.code)
    assert.is_true(stats(e).expired_tokens >= 1)
  end)
end)
