-- The engine's memory (issue 8, part 2): the engine allocates through the
-- Lua state's allocator (lua_getallocf) and counts what it holds, so a host
-- sees it with engine:memory() and caps it with max_memory. Payload values
-- (the JSON of inputs and outputs) are not counted: engine.h says what is.
local orchestra = require "orchestra"

local PENDING = { StartAt = "T", States = {
  T = { Type = "Task", Resource = "r", Next = "P" },
  P = { Type = "Pass", End = true } } }

local function engine(opts)
  opts = opts or {}
  opts.clock = "virtual"
  opts.seed = 1
  opts.start_time = 1700000000000
  return orchestra.engine(opts)
end

-- An engine whose "r" tasks wait for engine:task_success; returns the
-- engine and the list its tokens go to.
local function pending_engine(opts)
  local e, tokens = engine(opts), {}
  e:handler("r", function(_, ctx)
    tokens[#tokens + 1] = ctx.Task.Token
    return orchestra.pending
  end)
  return e, tokens
end

-- Answer every saved token; those of closed executions are gone.
local function answer_all(e, tokens)
  for i = #tokens, 1, -1 do
    local ok, err = pcall(e.task_success, e, tokens[i], { ok = true })
    if not ok then assert.are.equal("TaskDoesNotExist", err.code) end
    tokens[i] = nil
  end
end

-- A step that may find the engine out of memory: nothing else.
local function step(e)
  local ok, err = pcall(e.step, e)
  if not ok then assert.are.equal("OutOfMemory", err.code) end
end

describe("engine:memory()", function()
  it("counts the engine's own record from the start", function()
    local e = engine()
    assert.is_function(e.memory)
    local m = e:memory()
    assert.is_number(m)
    assert.is_true(m > 200, "the engine's record alone is a few hundred bytes: " .. m)
    e:close()
  end)

  it("rises with 1,000 pending executions and falls back when they finish and close", function()
    local e, tokens = pending_engine()
    local m = e:load(PENDING)
    local start = e:memory()
    local exs = {}
    for i = 1, 1000 do exs[i] = m:start({ i = i }) end
    e:run()
    assert.are.equal(1000, #tokens)
    assert.are.equal(1000, e:stats().pending_tasks)
    local pending = e:memory()
    -- executions, frames, tasks, timers' and tables' slots, event arrays:
    -- at least 300 bytes each
    assert.is_true(pending - start > 300 * 1000,
      ("1,000 pending executions hold only %d bytes"):format(pending - start))
    answer_all(e, tokens)
    e:run()
    for _, x in ipairs(exs) do assert.are.equal("SUCCEEDED", x.status) end
    assert.is_true(e:memory() >= pending, "finished executions keep their history")
    for _, x in ipairs(exs) do x:close() end
    local closed = e:memory()
    -- what is left: the tables' minimum capacity, nothing per execution
    assert.is_true(closed - start < 8192,
      ("%d bytes are left of 1,000 closed executions"):format(closed - start))
    assert.is_true(closed - start < (pending - start) / 100)
    e:close()
  end)

  it("counts history as it is kept: none holds less than full", function()
    local held = {}
    for _, h in ipairs({ "full", "none" }) do
      local e, tokens = pending_engine({ history = h })
      local m = e:load(PENDING)
      for i = 1, 200 do m:start({ i = i }) end
      e:run()
      answer_all(e, tokens)
      e:run()
      held[h] = e:memory()
      e:close()
    end
    assert.is_true(held.none < held.full,
      ("history none holds %d bytes, full %d"):format(held.none, held.full))
  end)
end)

describe("max_memory", function()
  it("must be a positive number", function()
    for _, bad in ipairs({ 0, -5, "lots" }) do
      local ok, err = pcall(orchestra.engine, { max_memory = bad })
      assert.is_false(ok)
      assert.matches("option 'max_memory' must be a number >= 1", tostring(err), 1, true)
    end
  end)

  it("caps the engine: starts past it raise OutOfMemory, and after some close it works again", function()
    local cap = 200000
    local e, tokens = pending_engine({ max_memory = cap })
    local m = e:load(PENDING)
    local exs, err = {}, nil
    for _ = 1, 10000 do
      local ok, x = pcall(m.start, m, {})
      if not ok then err = x break end
      exs[#exs + 1] = x
      step(e)
    end
    assert.is_table(err, "10,000 executions fit under a 200,000-byte cap")
    assert.are.equal("OutOfMemory", err.code)
    assert.matches("out of memory: the engine's allocator refused memory for a new execution",
      err.message, 1, true)
    assert.are.equal(err.message, tostring(err))
    assert.is_true(#exs > 50, "only " .. #exs .. " executions started")
    assert.is_true(e:memory() <= cap)
    assert.is_true(e:memory() > cap * 0.9, "refused well below the cap: " .. e:memory())
    -- another start is refused the same way
    local ok, again = pcall(m.start, m, {})
    assert.is_false(ok)
    assert.are.equal("OutOfMemory", again.code)
    -- close half: the engine takes new work again, and runs it to the end
    local half = math.floor(#exs / 2)
    for i = 1, half do exs[i]:close() end
    local fresh = {}
    for i = 1, 10 do fresh[i] = m:start({ i = i }) end
    e:run()
    answer_all(e, tokens)
    e:run()
    for _, x in ipairs(fresh) do assert.are.equal("SUCCEEDED", x.status) end
    for i = half + 1, #exs do assert.are.equal("SUCCEEDED", exs[i].status) end
    assert.is_true(e:memory() <= cap)
    e:close()
  end)

  it("makes engine:step() raise OutOfMemory when a step's work does not fit, not crash", function()
    local states = {}
    for i = 1, 10 do
      states["P" .. i] = { Type = "Pass", Next = i < 10 and ("P" .. (i + 1)) or "T" }
    end
    states.T = { Type = "Task", Resource = "r", End = true }
    local e, tokens = pending_engine({ max_memory = 60000 })
    local m = e:load({ StartAt = "P1", States = states })
    local exs = {}
    while true do -- fill the engine with executions that have not run yet
      local ok, x = pcall(m.start, m, {})
      if not ok then break end
      exs[#exs + 1] = x
    end
    -- their histories must grow: the steps cannot store every event
    local ok, err = pcall(e.run, e)
    assert.is_false(ok)
    assert.is_table(err)
    assert.are.equal("OutOfMemory", err.code)
    assert.matches("engine:step: out of memory", err.message, 1, true)
    assert.is_true(e:memory() <= 60000)
    -- close all but ten: the rest run to their end
    for i = 1, #exs - 10 do exs[i]:close() end
    e:run()
    answer_all(e, tokens)
    e:run()
    for i = #exs - 9, #exs do assert.are.equal("SUCCEEDED", exs[i].status) end
    local x = m:start({})
    e:run()
    answer_all(e, tokens)
    e:run()
    assert.are.equal("SUCCEEDED", x.status)
    e:close()
  end)
end)
