#!/usr/bin/env lua
--- Soak benchmark: memory under churn (issue 8). A long-running host (a game
-- server, an editor) starts and closes executions for weeks; the engine's
-- memory must stay flat. Runs N start -> wait -> close cycles of a one-Task
-- machine with history "none", once with a task that answers at once and
-- once with a task left pending that times out (TimeoutSeconds 1 under the
-- virtual clock), and prints, every K cycles, the process's RSS (from
-- /proc/self/statm), the Lua heap and engine:stats() (task_slots,
-- name_slots, expired_tokens). Needs LUA_PATH/LUA_CPATH that find orchestra
-- (`make bench-soak` sets them).
--
--   lua bench/soak.lua [N] [--every K] [--only plain|timeouts]
--
-- N defaults to 2,000,000 per variant, K to 100,000. The pass condition,
-- printed at the end of each variant and as the exit status: memory is flat,
-- i.e. from the first sample to the last the RSS grows by at most 10 % + 1
-- MiB, the Lua heap's peak (after a full collection) in the second half of
-- the run is at most 10 % + 64 KiB over its peak in the first half (the
-- binding's cache of converted $$ parts fills up over ~650,000 cycles, then
-- starts over), and no engine:stats() figure grows past max(its first
-- sample, 1024).

local orchestra = require "orchestra"

local function die(fmt, ...)
  io.stderr:write("bench/soak.lua: ", string.format(fmt, ...), "\n")
  os.exit(2)
end

local N, EVERY, ONLY = 2000000, 100000, nil
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--every" then
      EVERY = tonumber(arg[i + 1]) or die("--every needs a number")
      i = i + 2
    elseif a == "--only" then
      ONLY = arg[i + 1]
      if ONLY ~= "plain" and ONLY ~= "timeouts" then die("--only takes plain or timeouts") end
      i = i + 2
    elseif tonumber(a) then
      N = math.floor(tonumber(a))
      i = i + 1
    else
      die("unknown argument '%s' (usage: soak.lua [N] [--every K] [--only plain|timeouts])", a)
    end
  end
  if N < 1 or EVERY < 1 then die("N and K must be positive") end
end

local PAGE = 4096
do
  local p = io.popen("getconf PAGESIZE 2>/dev/null")
  local s = p and p:read("*l")
  if p then p:close() end
  PAGE = tonumber(s) or PAGE
end

-- Resident set size in MiB, from /proc/self/statm (its second field).
local function rss_mib()
  local f = io.open("/proc/self/statm")
  if not f then return nil end
  local s = f:read("*l")
  f:close()
  local pages = tonumber((s or ""):match("^%d+%s+(%d+)"))
  return pages and pages * PAGE / 1048576
end

local STATS = { "task_slots", "name_slots", "expired_tokens" }

local function stats(e)
  if not e.stats then return nil end
  return e:stats()
end

local function fmt_stats(s)
  if not s then return "engine:stats() missing" end
  local t = {}
  for _, k in ipairs(STATS) do t[#t + 1] = string.format("%s %d", k, s[k] or -1) end
  return table.concat(t, "  ")
end

-- One variant: returns true when memory stayed flat.
local function soak(name, def, handler, expected)
  local e = orchestra.engine({ clock = "virtual", history = "none", seed = 1,
    start_time = 1700000000000 })
  e:handler("r", handler)
  local m = e:load(def)
  io.write(string.format("\n%s: %d cycles, history none, a sample every %d\n", name, N, EVERY))
  io.write(string.format("%10s %9s %10s  %s\n", "cycles", "RSS MiB", "heap KiB", "engine:stats()"))
  local first, last
  local heap_max = { 0, 0 } -- the Lua heap's peak in each half of the run
  local t0 = os.clock()
  for i = 1, N do
    local ex = m:start({ i = i })
    local status = ex:wait()
    if status ~= expected then
      die("%s: cycle %d ended %s (%s), expected %s", name, i, status, tostring(ex.error), expected)
    end
    ex:close()
    if i % EVERY == 0 or i == N then
      collectgarbage("collect")
      local sample = { cycles = i, rss = rss_mib(), heap = collectgarbage("count"), stats = stats(e) }
      io.write(string.format("%10d %9.1f %10.0f  %s\n", i, sample.rss or -1, sample.heap,
        fmt_stats(sample.stats)))
      io.flush()
      first = first or sample
      local half = i <= N / 2 and 1 or 2
      heap_max[half] = math.max(heap_max[half], sample.heap)
      last = sample
    end
  end
  local seconds = os.clock() - t0
  local flat, why = true, {}
  if first.rss and last.rss and last.rss > first.rss * 1.10 + 1 then
    flat = false
    why[#why + 1] = string.format("RSS grew from %.1f to %.1f MiB", first.rss, last.rss)
  end
  if heap_max[2] > heap_max[1] * 1.10 + 64 then
    flat = false
    why[#why + 1] = string.format("the Lua heap's peak grew from %.0f KiB (first half) to %.0f KiB"
      .. " (second half)", heap_max[1], heap_max[2])
  end
  if not last.stats then
    flat = false
    why[#why + 1] = "engine:stats() is missing"
  else
    for _, k in ipairs(STATS) do
      local limit = math.max(first.stats[k] or 0, 1024)
      if (last.stats[k] or 0) > limit then
        flat = false
        why[#why + 1] = string.format("%s grew from %d to %d", k, first.stats[k] or -1, last.stats[k])
      end
    end
  end
  io.write(string.format("%s: %.1f s CPU, %.2f us per cycle: %s\n", name, seconds, seconds / N * 1e6,
    flat and "PASS (memory flat)" or ("FAIL (" .. table.concat(why, "; ") .. ")")))
  return flat
end

local ONE_TASK = { StartAt = "T", States = { T = { Type = "Task", Resource = "r", End = true } } }
local TIMING_OUT = { StartAt = "T", States = { T = { Type = "Task", Resource = "r",
  TimeoutSeconds = 1, End = true } } }

local ok = true
io.write(string.format("orchestra soak under %s\n", rawget(_G, "jit") and jit.version or _VERSION))
if ONLY ~= "timeouts" then
  ok = soak("plain (the task answers at once)", ONE_TASK, function(input) return input end, "SUCCEEDED") and ok
end
if ONLY ~= "plain" then
  ok = soak("timeouts (the task stays pending and times out)", TIMING_OUT,
    function() return orchestra.pending end, "FAILED") and ok
end
io.write(ok and "\nsoak: PASS (memory flat in every variant)\n" or "\nsoak: FAIL (memory grew)\n")
os.exit(ok and 0 or 1)
