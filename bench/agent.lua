#!/usr/bin/env lua
--- Agent loop benchmark (issue 10). Prints ratios against the targets:
--
-- 1. Loop overhead per step with the scripted model answering at once: one
--    step is a model call (a Lua task handler playing back a list of turns)
--    and the tool call it asks for (a Lua handler), with their events;
--    target <= 50 us/step.
-- 2. Flat as the conversation grows: the cost of steps 1,000..1,019 of one
--    invocation over that of steps 10..29; target <= 2x.
-- 3. 200 invocations in flight at once against the node model server
--    answering each request after 50 ms, from one Lua state, driven by
--    engine:step() and engine:wait(): the longest engine:step() (target
--    < 1 ms), all 200 finish, and the process's CPU time against the wall
--    time (idle while waiting: no busy polling).
--
--   lua bench/agent.lua [--smoke]
--
-- Needs LUA_PATH/LUA_CPATH that find orchestra (`make bench-agent` sets
-- them) and, for part 3, node with spec/support/node_modules (`make
-- node-deps`). Exits 1 when a target is missed.

local orchestra = require "orchestra"
package.path = "./?.lua;" .. package.path
local MS = require "spec.support.model_server"

local SMOKE = arg[1] == "--smoke"
local now = orchestra.monotonic
local failed = false

local function report(name, value, target, ok, unit)
  print(("%-58s %10.3f %-6s target %s  %s"):format(name, value, unit, target, ok and "ok" or "MISSED"))
  if not ok then failed = true end
end

-- An invocation of n steps: each turn asks for one tool call, the last
-- answers. Returns the agent's engine, the execution and the times at
-- which each model call began.
local function long_invocation(n)
  local e = orchestra.engine { clock = "virtual", history = "none" }
  local turns = {}
  for i = 1, n - 1 do
    turns[i] = { tool_calls = { { id = "c" .. i, name = "work", arguments = { i = i } } } }
  end
  turns[n] = { text = "done" }
  local stamps = {}
  local agent = e:agent {
    model = orchestra.models.scripted { turns = turns },
    max_steps = n + 1,
    tools = { work = { description = "adds one", handler = function(args) return args.i + 1 end } },
  }
  -- time each model call: wrap the scripted model's handler
  local resource = "orchestra:model:" .. agent.name
  local i = 0
  e:handler(resource, function()
    i = i + 1
    stamps[i] = now()
    return turns[i]
  end)
  return e, agent, stamps
end

-- {====== 1 and 2: loop overhead

do
  local n = SMOKE and 200 or 2000
  local reps = SMOKE and 1 or 5
  local best = math.huge
  for _ = 1, reps do
    local e, agent = long_invocation(n)
    collectgarbage()
    local t0 = now()
    local ex = agent:start("go")
    ex:wait()
    local dt = now() - t0
    assert(ex.status == "SUCCEEDED", tostring(ex.cause))
    assert(ex.output.steps == n)
    if dt / n < best then best = dt / n end
    e:close()
  end
  report(("loop overhead per step (%d steps, best of %d)"):format(n, reps), best * 1e6, "<= 50", best * 1e6 <= 50, "us")

  local steps = SMOKE and 1100 or 1100
  local ratios = {}
  for _ = 1, reps do
    local e, agent, stamps = long_invocation(steps)
    local ex = agent:start("go")
    ex:wait()
    assert(ex.status == "SUCCEEDED", tostring(ex.cause))
    local early = (stamps[30] - stamps[10]) / 20
    local late = (stamps[1020] - stamps[1000]) / 20
    ratios[#ratios + 1] = late / early
    e:close()
  end
  table.sort(ratios)
  local median = ratios[math.floor((#ratios + 1) / 2)]
  report(("per-step cost at step 1,000 / at step 10 (median of %d)"):format(#ratios), median, "<= 2", median <= 2, "x")
end

-- }======

-- {====== 3: 200 invocations against the model server

do
  local N = SMOKE and 50 or 200
  local srv = MS.start(".")
  srv:reset({ api_key = "bench-key" })
  local steps = {}
  for i = 1, N do
    steps[i] = { turn = { text = "answer " .. i, stop = "end_turn", usage = { input = 10, output = 2 } }, delay_ms = 50 }
  end
  srv:enqueue(steps)
  local e = orchestra.engine {}
  local agent = e:agent { model = orchestra.models.openai { base_url = srv.url .. "/v1", model = "bench", api_key = "bench-key" } }
  local exs = {}
  local c0, t0 = os.clock(), now()
  for i = 1, N do exs[i] = agent:start("question " .. i) end
  local longest, nsteps = 0, 0
  while e:running() > 0 do
    local s, sc = now(), os.clock()
    local left = e:step()
    local d, dc = now() - s, os.clock() - sc
    nsteps = nsteps + 1
    if d > longest then longest = d end
    if os.getenv("BENCH_TRACE") and d > 0.001 then io.stderr:write(("step %d: %.2f ms (cpu %.2f ms), %d left\n"):format(nsteps, d * 1e3, dc * 1e3, left)) end
    if left == 0 and e:running() > 0 then e:wait() end
  end
  local cpu, wall = os.clock() - c0, now() - t0
  srv:stop()
  local ok = 0
  for i = 1, N do if exs[i].status == "SUCCEEDED" then ok = ok + 1 end end
  report(("%d invocations in flight: finished"):format(N), ok, "= " .. N, ok == N, "")
  report(("%d invocations in flight: longest engine:step() (%d steps)"):format(N, nsteps), longest * 1e3, "< 1", longest * 1e3 < 1, "ms")
  report(("%d invocations in flight: process CPU / wall (%.2f s wall)"):format(N, wall), cpu / wall, "< 0.5", cpu / wall < 0.5, "")
end

-- }======

os.exit(failed and 1 or 0)
