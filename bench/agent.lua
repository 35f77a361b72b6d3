#!/usr/bin/env lua
--- Agent loop benchmark (issue 10). Prints figures against the targets and
-- ratios against the peers:
--
-- 1. Loop overhead per step with the scripted model answering at once: one
--    step is a model call (a Lua task handler playing back a list of turns)
--    and the tool call it asks for (a Lua handler), with their events;
--    target <= 50 us/step. The job is the peers' (bench/agents/README.md):
--    K = 1,000 steps, the tool returns {i, ok, value, unit}. Median of many
--    invocations (a 2-core machine shared with other work is noisy), and,
--    when valgrind is there, instructions per step counted by callgrind
--    (two invocation lengths subtracted: start-up cancels out).
-- 2. Flat as the conversation grows: the cost of steps 1,000..1,099 of one
--    invocation over that of steps 10..109 (median over invocations), and
--    the same ratio in callgrind's instructions; target <= 2x.
-- 3. 200 invocations in flight at once against the node model server
--    answering each request after 50 ms, from one Lua state, driven by
--    engine:step() and engine:wait(), several rounds on one engine (the
--    first opens the connections, the next reuse them): the longest
--    engine:step() and its 99th percentile in wall time and in CPU time
--    (target < 1 ms; a step whose wall time is far above its CPU time was
--    preempted by the machine's other work, which the count separates),
--    all 200 finish, and the CPU time spent inside engine:wait() against
--    the wall time spent there (idle while waiting: no busy polling), with
--    the whole loop's CPU/wall beside it.
-- 4. The peers (bench/agents/: LangGraph's createReactAgent, the OpenAI
--    Agents SDK, a plain JavaScript loop) on the same job when node and
--    their npm packages are there (`make bench-agent` installs them):
--    their microseconds per step at K = 1,000 over orchestra's.
--
--   lua bench/agent.lua [--smoke] [--no-peers] [--no-callgrind]
--
-- Needs LUA_PATH/LUA_CPATH that find orchestra (`make bench-agent` sets
-- them) and, for part 3, node with spec/support/node_modules (`make
-- node-deps`). Exits 1 when a target is missed.

local orchestra = require "orchestra"
package.path = "./?.lua;" .. package.path

local now = orchestra.monotonic
local opts = {}
for _, a in ipairs(arg) do opts[a] = true end
local SMOKE = opts["--smoke"]
local failed = false

local function report(name, value, target, ok, unit)
  print(("%-62s %10.3f %-6s %s  %s"):format(name, value, unit, target and "target " .. target or "",
    target and (ok and "ok" or "MISSED") or ""))
  if target and not ok then failed = true end
end

local function median(t)
  local s = {}
  for i = 1, #t do s[i] = t[i] end
  table.sort(s)
  if #s == 0 then return 0 / 0 end
  if #s % 2 == 1 then return s[(#s + 1) / 2] end
  return (s[#s / 2] + s[#s / 2 + 1]) / 2
end

local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(#sorted * p))]
end

-- An invocation of n steps, the peers' job: each turn asks for one tool call
-- `lookup{i}` until i = n - 1, the last answers. Returns the engine, the
-- agent and the times at which each model call began.
local function long_invocation(n)
  local e = orchestra.engine { clock = "virtual", history = "none" }
  local turns = {}
  for i = 1, n - 1 do
    turns[i] = { tool_calls = { { id = "call_" .. i, name = "lookup", arguments = { i = i } } } }
  end
  turns[n] = { text = ("done after %d steps"):format(n) }
  local stamps = {}
  local agent = e:agent {
    model = orchestra.models.scripted { turns = turns },
    max_steps = n + 1,
    tools = {
      lookup = {
        description = "Return a small JSON object for step i.",
        schema = { type = "object", properties = { i = { type = "number" } }, required = { "i" } },
        handler = function(args) return { i = args.i, ok = true, value = 42, unit = "widgets" } end,
      },
    },
  }
  -- time each model call: a handler in place of the scripted model's
  local resource = "orchestra:model:" .. agent.name
  local i = 0
  e:handler(resource, function()
    i = i + 1
    stamps[i] = now()
    return turns[i]
  end)
  return e, agent, stamps
end

local function run_invocation(n)
  local e, agent, stamps = long_invocation(n)
  collectgarbage()
  local t0 = now()
  local ex = agent:start("K=" .. n)
  ex:wait()
  local dt = now() - t0
  assert(ex.status == "SUCCEEDED", tostring(ex.cause))
  assert(ex.output.steps == n, "steps " .. tostring(ex.output.steps))
  e:close()
  return dt, stamps
end

-- `--ir N`: one invocation of N steps and nothing else, for callgrind
for i, a in ipairs(arg) do
  if a == "--ir" then
    run_invocation(tonumber(arg[i + 1]))
    os.exit(0)
  end
end

-- Instructions of `lua bench/agent.lua --ir n` under callgrind, or nil.
local function instructions(n)
  local lua = arg[-1] or "lua5.4"
  local cmd = ("valgrind --tool=callgrind --callgrind-out-file=/dev/null %s bench/agent.lua --ir %d 2>&1"):format(lua, n)
  local p = io.popen(cmd)
  local text = p:read("*a")
  p:close()
  return tonumber(text:match("Collected : (%d+)"))
end

local K = 1000
local per_step_us

-- {====== 1 and 2: loop overhead and flatness

do
  local reps = SMOKE and 2 or 15
  local per = {}
  for r = 1, reps do per[r] = run_invocation(K) / K * 1e6 end
  per_step_us = median(per)
  table.sort(per)
  report(("loop overhead per step (K=%d, median of %d; min %.1f, max %.1f)"):format(K, reps, per[1], per[#per]),
    per_step_us, "<= 50", per_step_us <= 50, "us")

  local n = 1100
  local ratios, early, late = {}, {}, {}
  for r = 1, reps do
    local _, stamps = run_invocation(n)
    early[r] = (stamps[110] - stamps[10]) / 100 * 1e6
    late[r] = (stamps[1100] - stamps[1000]) / 100 * 1e6
    ratios[r] = late[r] / early[r]
  end
  local m = median(ratios)
  report(("per-step cost, steps 1000-1099 / steps 10-109 (median of %d)"):format(reps), m, "<= 2", m <= 2, "x")
  report("  per step at steps 10-109 (median)", median(early), nil, true, "us")
  report("  per step at steps 1000-1099 (median)", median(late), nil, true, "us")

  local has_valgrind = os.execute("command -v valgrind >/dev/null 2>&1")
  if not SMOKE and not opts["--no-callgrind"] and (has_valgrind == true or has_valgrind == 0) then
    local i100, i200, i1000, i1100 = instructions(100), instructions(200), instructions(1000), instructions(1100)
    if i100 and i200 and i1000 and i1100 then
      local ie, il = (i200 - i100) / 100, (i1100 - i1000) / 100
      report("instructions per step, steps 100-199 (callgrind)", ie, nil, true, "Ir")
      report("instructions per step, steps 1000-1099 (callgrind)", il, nil, true, "Ir")
      report("  their ratio (callgrind)", il / ie, "<= 2", il / ie <= 2, "x")
    else
      print("callgrind: no instruction count (valgrind failed)")
    end
  end
end

-- }======

-- {====== 3: 200 invocations against the model server

do
  local MS = require "spec.support.model_server"
  local N = SMOKE and 50 or 200
  local rounds = SMOKE and 1 or 5
  local srv = MS.start(".")
  srv:reset({ api_key = "bench-key" })
  local e = orchestra.engine {}
  local agent = e:agent { model = orchestra.models.openai { base_url = srv.url .. "/v1", model = "bench", api_key = "bench-key" } }
  local walls, cpus = {}, {}
  local nslow, npreempted, finished = 0, 0, 0
  local wait_cpu, wait_wall, nwaits = 0, 0, 0
  local all_cpu, all_wall = 0, 0
  for _ = 1, rounds do
    local script = {}
    for i = 1, N do
      script[i] = { turn = { text = "answer " .. i, stop = "end_turn", usage = { input = 10, output = 2 } }, delay_ms = 50 }
    end
    srv:enqueue(script)
    local exs = {}
    local c0, t0 = os.clock(), now()
    for i = 1, N do exs[i] = agent:start("question " .. i) end
    while e:running() > 0 do
      local s, sc = now(), os.clock()
      local left = e:step()
      local d, dc = now() - s, os.clock() - sc
      walls[#walls + 1], cpus[#cpus + 1] = d, dc
      if d > 0.001 then
        nslow = nslow + 1
        if dc < 0.001 then npreempted = npreempted + 1 end
        if os.getenv("BENCH_TRACE") then io.stderr:write(("step %d: %.2f ms (cpu %.2f ms), %d left\n"):format(#walls, d * 1e3, dc * 1e3, left)) end
      end
      if left == 0 and e:running() > 0 then
        local ws, wc = now(), os.clock()
        e:wait()
        wait_wall, wait_cpu, nwaits = wait_wall + now() - ws, wait_cpu + os.clock() - wc, nwaits + 1
      end
    end
    all_cpu, all_wall = all_cpu + os.clock() - c0, all_wall + now() - t0
    -- the server answers in the order requests arrive: each answer once
    local seen = {}
    for i = 1, N do
      local text = exs[i].status == "SUCCEEDED" and exs[i].output.text
      if text and text:match("^answer %d+$") and not seen[text] then
        seen[text] = true
        finished = finished + 1
      end
      exs[i]:close()
    end
  end
  srv:stop()
  e:close()
  table.sort(walls)
  table.sort(cpus)
  local label = ("%d in flight x %d rounds"):format(N, rounds)
  report(("%s: finished, each with one of the answers"):format(label), finished, "= " .. N * rounds, finished == N * rounds, "")
  report(("%s: longest engine:step(), CPU time (%d steps)"):format(label, #cpus), cpus[#cpus] * 1e3, "< 1", cpus[#cpus] < 0.001, "ms")
  report(("%s: 99th percentile step, CPU time"):format(label), percentile(cpus, 0.99) * 1e3, nil, true, "ms")
  report(("%s: longest engine:step(), wall time"):format(label), walls[#walls] * 1e3, "< 1", walls[#walls] < 0.001, "ms")
  report(("%s: 99th percentile step, wall time"):format(label), percentile(walls, 0.99) * 1e3, nil, true, "ms")
  report(("  steps over 1 ms wall (of which preempted: CPU < 1 ms): %d"):format(npreempted), nslow, nil, true, "")
  report(("%s: CPU / wall inside engine:wait() (%d waits, %.3f s)"):format(label, nwaits, wait_wall),
    wait_wall > 0 and wait_cpu / wait_wall or 0, "< 0.1", wait_wall > 0 and wait_cpu / wait_wall < 0.1, "")
  report(("%s: CPU / wall of the whole loop (%.2f s wall)"):format(label, all_wall), all_cpu / all_wall, nil, true, "")
end

-- }======

-- {====== 4: the peers

local function peer(dir, script, env, args)
  local p = io.popen(("cd %s && %s node --expose-gc %s %s 2>&1"):format(dir, env or "", script, args))
  local text = p:read("*a")
  p:close()
  local us = tonumber(text:match('"medianPerStepUs":([%d.]+)'))
  return us, text
end

do
  local dir = os.getenv("BENCH_AGENTS_DIR") or "build/bench-agents"
  local f = io.open(dir .. "/node_modules/@langchain/langgraph/package.json")
  if f then f:close() end
  if SMOKE or opts["--no-peers"] then
    print("peers: skipped")
  elseif not f then
    print(("peers: not installed in %s (make bench-agent installs them)"):format(dir))
  else
    local peers = {
      { "plain JavaScript loop", "baseline_bench.mjs", "LOOP=bare", "steps " .. K .. " 5" },
      { "LangGraph createReactAgent", "lg_bench.mjs", "", "steps " .. K .. " 3" },
      { "OpenAI Agents SDK Runner", "oai_bench.mjs", "", "steps " .. K .. " 1" },
    }
    for _, p in ipairs(peers) do
      local us, text = peer(dir, p[2], p[3], p[4])
      if us then
        report(("%s: us per step at K=%d / orchestra's"):format(p[1], K), us / per_step_us, nil, true,
          ("x (%.0f us)"):format(us))
      else
        print(("%s: failed: %s"):format(p[1], text))
      end
    end
  end
end

-- }======

os.exit(failed and 1 or 0)
