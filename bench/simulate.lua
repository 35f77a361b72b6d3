#!/usr/bin/env lua
--- The cost model's simulation speed: `orchestra.cost.simulate` over the
-- order example (examples/order) on the virtual clock, N runs in this
-- process; prints one JSON line {runs, seconds, per_second,
-- mean_transitions, clock}. Needs LUA_PATH/LUA_CPATH that find orchestra
-- (bench/bench.lua sets them).
--
--   lua bench/simulate.lua [--runs N]   (default 100000)

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local tag = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local clock_dir = os.getenv("BENCH_CLOCK_DIR") or (here .. "/../build/bench/" .. tag)
package.cpath = clock_dir .. "/?.so;" .. package.cpath

local orchestra = require "orchestra"

local runs = 100000
if arg[1] == "--runs" then runs = tonumber(arg[2]) end
if not runs or runs < 1 then
  io.stderr:write("bench/simulate.lua: --runs needs a positive number\n")
  os.exit(1)
end

local now, clock_name = os.clock, "os.clock (CPU time)"
local ok, mod = pcall(require, "benchclock")
if ok then now, clock_name = mod.now, "CLOCK_MONOTONIC" end

local function read(path)
  local f = assert(io.open(here .. "/../examples/order/" .. path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local t0 = now()
local r = orchestra.cost.simulate { definition = read("definition.asl.json"),
  input = read("input.json"), tasks = dofile(here .. "/../examples/order/tasks.lua"),
  runs = runs, progress = false }
local seconds = now() - t0
if r.runs ~= runs or r.statuses.SUCCEEDED ~= runs then
  io.stderr:write("bench/simulate.lua: expected ", runs, " SUCCEEDED runs, got ",
    orchestra.json.encode(r.statuses), "\n")
  os.exit(1)
end
-- the tasks file's card service is busy twice in the whole process: one
-- run has two retries, every other run enters 6 states
local expect = (6 * (runs - 1) + 8) / runs
if math.abs(r.transitions.mean - expect) > 1e-9 then
  io.stderr:write("bench/simulate.lua: mean transitions ", r.transitions.mean, ", expected ", expect, "\n")
  os.exit(1)
end
io.write(orchestra.json.encode { runs = runs, seconds = seconds, per_second = runs / seconds,
  mean_transitions = r.transitions.mean, clock = clock_name }, "\n")
