-- The benchmark's orchestra side (bench/run.lua) at tiny sizes: every
-- workload runs, its output matches and its transitions are counted right;
-- the extra measurements run; bench/workloads.lua's generators agree with
-- the published workload files. `make bench` runs the real thing.
local h = require "spec.helper"
local orchestra = require "orchestra"
local json = orchestra.json

package.path = h.ROOT .. "/bench/?.lua;" .. package.path
local W = require "workloads"

-- Under make test-asan the benchmark's child runs without LeakSanitizer:
-- LSan's stop-the-world tracer crashes at its exit on a dynamic TLS block
-- with a bogus address (gcc 12's libsanitizer on glibc 2.36), which is no
-- leak of ours; the specs' own processes still hunt leaks.
local NO_LSAN = os.getenv("ASAN_OPTIONS") and "ASAN_OPTIONS=detect_leaks=0 " or ""

local function run(args)
  local status, out, err = h.run(NO_LSAN .. h.lua_env() .. h.LUA .. " " .. h.ROOT .. "/bench/run.lua " .. args)
  assert.equal(0, status, err)
  assert.equal("", err)
  local line = out:match("([^\n]+)\n$")
  assert.is_not_nil(line, "no output line: " .. out)
  return json.decode(line)
end

describe("bench/run.lua", function()
  for _, name in ipairs(W.NAMES) do
    for _, size in ipairs({ 1, 3 }) do
      it("runs " .. name .. " at size " .. size .. ", output and transitions checked", function()
        local t0 = orchestra.monotonic()
        local r = run(name .. " --size " .. size)
        local wall = orchestra.monotonic() - t0
        assert.equal("ok", r.check)
        assert.equal(name, r.workload)
        assert.equal(size, r.size)
        assert.equal(W.transitions(name, size), r.transitions)
        assert.equal(W.transitions(name, size), r.counted_transitions)
        assert.equal(W.transitions(name, size), r.history_counted_transitions)
        -- the in-process time is positive and within the process's own
        assert.is_true(r.seconds > 0 and r.seconds <= wall,
          ("in-process %s s, the whole process %s s"):format(r.seconds, wall))
        assert.is_true(r.transitions_per_s > 0)
      end)
    end
  end

  it("runs pass_chain and map_inline written in JSONata: the same output and transitions", function()
    for _, name in ipairs({ "pass_chain", "map_inline" }) do
      local r = run(name .. " --size 7 --jsonata")
      assert.equal("ok", r.check)
      assert.equal(W.transitions(name, 7), r.counted_transitions)
      assert.equal(W.transitions(name, 7), r.history_counted_transitions)
    end
  end)

  it("runs map_distributed and the history options", function()
    local r = run("map_distributed --size 5")
    assert.equal("ok", r.check)
    assert.equal(W.transitions("map_inline", 5), r.counted_transitions)
    assert.equal(json.null, r.history_counted_transitions)
    r = run("pass_chain --size 4 --history none")
    assert.equal("none", r.history)
    assert.equal(W.transitions("pass_chain", 4), r.counted_transitions)
    assert.equal(json.null, r.history_counted_transitions)
    r = run("map_inline --size 4 --history last:10")
    assert.equal("ok", r.check)
  end)

  it("runs the suspended-executions measurement", function()
    local r = run("suspended --executions 50 --history none")
    assert.equal("ok", r.check)
    assert.equal(50, r.executions)
  end)

  it("runs the step-latency measurement", function()
    local r = run("latency --executions 20 --maps 2 --items 5 --answers 3")
    assert.equal("ok", r.check)
    assert.equal(30, r.in_flight)
    assert.is_true(r.steps > 1)
    assert.is_true(r.p50_us <= r.p99_us and r.p99_us <= r.max_us)
  end)

  it("rejects an unknown workload with a clear message", function()
    local status, out, err = h.run(h.lua_env() .. h.LUA .. " " .. h.ROOT .. "/bench/run.lua nope")
    assert.equal(1, status)
    assert.equal("", out)
    assert.matches("unknown workload 'nope'", err)
  end)
end)

describe("bench/workloads.lua", function()
  local dir = h.ROOT .. "/bench/workloads/"
  local manifest = json.decode(h.read(dir .. "manifest.json"))

  local function lines(text)
    local list = {}
    for line in text:gmatch("[^\n]+") do list[#list + 1] = json.decode(line) end
    return list
  end

  for _, name in ipairs(W.NAMES) do
    it("generates " .. name .. " as the published files have it", function()
      local size = W.MEASURED_SIZES[name]
      assert.equal(manifest[name].size, size)
      assert.equal(manifest[name].transitions, W.transitions(name, size))
      local input, expected
      if name == "many_executions" then
        input = lines(h.read(dir .. name .. "/input.jsonl"))
        expected = lines(h.read(dir .. name .. "/expected.jsonl"))
      else
        input = json.decode(h.read(dir .. name .. "/input.json"))
        expected = json.decode(h.read(dir .. name .. "/expected.json"))
      end
      assert.is_true(json.encode(input) == json.encode(W.input(name, size)), "input differs")
      assert.is_true(json.encode(expected) == json.encode(W.expected(name, size)), "expected differs")
    end)
  end
end)
