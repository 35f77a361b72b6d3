#!/usr/bin/env lua5.4
--- The benchmark harness (`make bench`): runs every workload on orchestra
-- (bench/run.lua under lua5.4 and LuaJIT) and on the peer
-- (aws-local-stepfunctions, bench/run-peer.mjs under Node 22), alternating,
-- each under /usr/bin/time -v; checks every result; prints the median table
-- and writes it, with the extra measurements and the machine's description,
-- into bench/RESULTS.md (between the bench:begin/bench:end markers; text
-- around them is kept).
--
--   lua5.4 bench/bench.lua [--runs 5] [--warmup 1] [--workloads a,b]
--                          [--parts table,growth,suspended,latency,callgrind]
--                          [--size N] [--smoke] [--no-peer] [--out FILE]
--
-- --smoke: tiny sizes, one run, no RESULTS.md unless --out is given.
-- Run from the repository root; needs build/<lua> (make build-lua5.4
-- build-luajit), build/bench/<lua>/benchclock.so and build/bench-node (make
-- bench does all of it).

local ROOT = os.getenv("BENCH_ROOT") or "."
local BUILD = os.getenv("BUILD") or "build"
package.path = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. ROOT .. "/bench/?.lua;" .. package.path
package.cpath = ROOT .. "/" .. BUILD .. "/lua5.4/?.so;" .. package.cpath

local ok_orch, orchestra = pcall(require, "orchestra")
if not ok_orch then
  io.stderr:write("bench: cannot load orchestra for lua5.4 (run `make build-lua5.4` first):\n",
    tostring(orchestra), "\n")
  os.exit(1)
end
local json = orchestra.json
local W = require "workloads"

local PEER_DIR = os.getenv("BENCH_PEER_DIR") or (BUILD .. "/bench-node")
local LUAS = { "lua5.4", "luajit" }

-- {====== helpers

local function die(fmt, ...)
  io.stderr:write("bench: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

local function say(fmt, ...)
  io.stderr:write(string.format(fmt, ...), "\n")
end

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sh(cmd)   -- first line of a command's output, "" on failure
  local p = io.popen(cmd .. " 2>/dev/null")
  local s = p and p:read("*a") or ""
  if p then p:close() end
  return (s:gsub("%s+$", ""))
end

local function status_of(a, b, c)  -- os.execute's result on 5.1 and 5.2+
  if type(a) == "number" then return a >= 256 and math.floor(a / 256) or a end
  return c or (a and 0 or 1)
end

local TMP = os.tmpname()
local function cleanup()
  for _, ext in ipairs({ "", ".out", ".err", ".time" }) do os.remove(TMP .. ext) end
end

-- Run argv-like `cmd` (a shell string) under /usr/bin/time -v. Returns the
-- last stdout line decoded, the wall seconds and the max RSS in MiB from
-- time's report; a failure stops the benchmark with its stderr.
local function timed(label, env, cmd)
  local full = string.format("%s /usr/bin/time -v -o %s %s >%s 2>%s", env,
    q(TMP .. ".time"), cmd, q(TMP .. ".out"), q(TMP .. ".err"))
  local status = status_of(os.execute(full))
  local out, err, tv = slurp(TMP .. ".out") or "", slurp(TMP .. ".err") or "", slurp(TMP .. ".time") or ""
  if status ~= 0 then
    cleanup()
    die("%s failed (exit %s):\n%s\n%s", label, tostring(status), err, out)
  end
  local last = out:match("([^\n]+)\n?$")
  if not last then die("%s printed nothing:\n%s", label, err) end
  local okd, line = pcall(json.decode, last)
  if not okd or type(line) ~= "table" then die("%s printed no JSON line: %s", label, last) end
  local h, m, s = tv:match("Elapsed %(wall clock%) time %(h:mm:ss or m:ss%): (%d+):(%d+):([%d.]+)")
  local wall
  if h then
    wall = h * 3600 + m * 60 + s
  else
    m, s = tv:match("Elapsed %(wall clock%) time %(h:mm:ss or m:ss%): (%d+):([%d.]+)")
    wall = m and (m * 60 + s) or nil
  end
  local rss = tonumber(tv:match("Maximum resident set size %(kbytes%): (%d+)"))
  if not wall or not rss then die("%s: no report from /usr/bin/time -v:\n%s", label, tv) end
  return line, wall, rss / 1024
end

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

local function fmt_int(n)
  local s = string.format("%d", math.floor(n + 0.5))
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

local function fmt(x, d)
  return string.format("%." .. (d or 3) .. "f", x)
end

local function lua_env(lua)
  return string.format("LUA_PATH=%s LUA_CPATH=%s BENCH_CLOCK_DIR=%s",
    q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
    q(ROOT .. "/" .. BUILD .. "/" .. lua .. "/?.so;;"),
    q(ROOT .. "/" .. BUILD .. "/bench/" .. lua))
end

local function orchestra_cmd(lua, args)
  return lua_env(lua), lua .. " " .. q(ROOT .. "/bench/run.lua") .. " " .. args
end

-- The expected output of workload w at size (canonical JSON: sorted keys),
-- and whether the output an engine wrote to file matches it. The timed runs
-- check here, in this process, so that their own peak RSS is the engine's.
local expected_cache = {}
local function expected_text(w, size)
  local key = w .. ":" .. size
  if not expected_cache[key] then
    local base = w == "map_distributed" and "map_inline" or w
    local value
    if size == W.MEASURED_SIZES[base] then
      local dir = ROOT .. "/bench/workloads/" .. base
      if base == "many_executions" then
        value = {}
        for l in io.lines(dir .. "/expected.jsonl") do
          if l ~= "" then value[#value + 1] = json.decode(l) end
        end
      else
        local f = assert(io.open(dir .. "/expected.json", "rb"))
        value = json.decode(f:read("*a"))
        f:close()
      end
    else
      value = W.expected(base, size)
    end
    expected_cache[key] = json.encode(value)
  end
  return expected_cache[key]
end

local function check_written(label, w, size, path)
  local f = io.open(path, "rb")
  local text = f and f:read("*a")
  if f then f:close() end
  os.remove(path)
  if not text then die("%s: wrote no output", label) end
  local ok, value = pcall(json.decode, text)
  if not ok or json.encode(value) ~= expected_text(w, size) then
    die("%s: wrong output: %s", label, text:sub(1, 300))
  end
end

local function peer_cmd(args)
  return "", q(PEER_DIR .. "/node_modules/.bin/node") .. " " .. q(PEER_DIR .. "/run-peer.mjs") .. " " .. args
end

-- }======

-- {====== options

local opts = { runs = 5, warmup = 1, parts = "table,growth,suspended,latency,simulate,callgrind" }
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    local function value()
      i = i + 1
      if arg[i] == nil then die("option %s needs a value", a) end
      return arg[i]
    end
    if a == "--runs" then opts.runs = tonumber(value())
    elseif a == "--warmup" then opts.warmup = tonumber(value())
    elseif a == "--workloads" then opts.workloads = value()
    elseif a == "--parts" then opts.parts, opts.parts_given = value(), true
    elseif a == "--size" then opts.size = tonumber(value())
    elseif a == "--out" then opts.out = value()
    elseif a == "--smoke" then opts.smoke = true
    elseif a == "--no-peer" then opts.no_peer = true
    else die("unknown argument '%s' (see the top of bench/bench.lua)", a) end
    i = i + 1
  end
  if not opts.runs or opts.runs < 1 then die("--runs must be at least 1") end
  if not opts.warmup or opts.warmup < 0 then die("--warmup must be 0 or more") end
  if opts.smoke then
    opts.runs, opts.warmup = 1, 0
    opts.size = opts.size or 3
    if not opts.parts_given then opts.parts = "table,suspended,latency,simulate" end
  end
  if not opts.smoke and not opts.out then opts.out = ROOT .. "/bench/RESULTS.md" end
end

local parts = {}
for p in opts.parts:gmatch("[^,]+") do parts[p] = true end
local workloads = {}
if opts.workloads then
  for w in opts.workloads:gmatch("[^,]+") do
    if not W.is_known(w) then die("unknown workload '%s'", w) end
    workloads[#workloads + 1] = w
  end
else
  workloads = W.NAMES
end

local function check_setup()
  for _, lua in ipairs(LUAS) do
    if not slurp(ROOT .. "/" .. BUILD .. "/" .. lua .. "/orchestra/core.so") then
      die("no %s/%s/orchestra/core.so: run `make build-%s` first", BUILD, lua, lua)
    end
    if not slurp(ROOT .. "/" .. BUILD .. "/bench/" .. lua .. "/benchclock.so") then
      die("no %s/bench/%s/benchclock.so: run `make bench` (it builds bench/clock.c)", BUILD, lua)
    end
  end
  if not slurp("/usr/bin/time") then die("/usr/bin/time is missing: apt-get install time") end
  if not opts.no_peer and not slurp(PEER_DIR .. "/run-peer.mjs") then
    die("the peer is not installed in %s: run `make bench`", PEER_DIR)
  end
end
check_setup()

-- }======

local sections = {}   -- Markdown blocks for RESULTS.md, in order
local function emit(text)
  io.write(text, "\n")
  io.flush()
  sections[#sections + 1] = text
end

-- {====== the machine

local function machine()
  local cpuinfo = slurp("/proc/cpuinfo") or ""
  local model = cpuinfo:match("model name%s*:%s*([^\n]+)") or "unknown"
  local mem = tonumber((slurp("/proc/meminfo") or ""):match("MemTotal:%s*(%d+)"))
  local lines = {
    "Machine: " .. model .. ", " .. sh("nproc") .. " cores (nproc), "
      .. (mem and string.format("%.1f GiB RAM", mem / 1048576) or "RAM unknown")
      .. ", kernel " .. sh("uname -srm") .. ", " .. (sh("sed -n 's/^PRETTY_NAME=//p' /etc/os-release"):gsub('"', "")),
    "Date: " .. sh("date -u '+%Y-%m-%d %H:%M UTC'"),
    "orchestra: " .. orchestra.VERSION .. ", commit " .. sh("git -C " .. q(ROOT) .. " describe --always --dirty")
      .. " (\"-dirty\": uncommitted changes were built), CMake build type RelWithDebInfo (-O2 -g)",
    "Lua: " .. sh("lua5.4 -v") .. "; " .. sh("luajit -v"),
  }
  if not opts.no_peer then
    local pkg = slurp(PEER_DIR .. "/node_modules/aws-local-stepfunctions/package.json")
    lines[#lines + 1] = "Peer: aws-local-stepfunctions "
      .. (pkg and json.decode(pkg).version or "?") .. " on Node " .. sh(q(PEER_DIR .. "/node_modules/.bin/node") .. " --version")
  end
  return "- " .. table.concat(lines, "\n- ")
end

-- }======

-- {====== the workload table

local function run_table()
  say("== workloads: checks, then %d warm-up + %d runs each, alternating", opts.warmup, opts.runs)
  local engines = {}
  for _, lua in ipairs(LUAS) do engines[#engines + 1] = lua end
  if not opts.no_peer then engines[#engines + 1] = "peer" end
  local rows = {}
  for _, w in ipairs(workloads) do
    local size = opts.size or W.MEASURED_SIZES[w]
    local size_arg = opts.size and (" --size " .. size) or ""
    -- 1. correctness: output and states entered, counted from the history
    for _, e in ipairs(engines) do
      local env, cmd
      if e == "peer" then
        env, cmd = peer_cmd(w .. " " .. size .. " --check")
      else
        env, cmd = orchestra_cmd(e, q(w) .. size_arg)
      end
      local line = timed(w .. " check on " .. e, env, cmd)
      local want = W.transitions(w, size)
      if line.check ~= "ok" or line.counted_transitions ~= want then
        die("%s on %s: check %s, %s states entered, the formula says %d", w, e,
          tostring(line.check), tostring(line.counted_transitions), want)
      end
    end
    say("%s (size %d): outputs and %d transitions checked on %s", w, size,
      W.transitions(w, size), table.concat(engines, ", "))
    -- 2. timing: rounds of one run per engine (outputs still checked)
    local samples = {}
    for _, e in ipairs(engines) do samples[e] = { s = {}, wall = {}, rss = {} } end
    local limits
    for r = 1, opts.warmup + opts.runs do
      for _, e in ipairs(engines) do
        local env, cmd
        local out = TMP .. ".output"
        if e == "peer" then
          env, cmd = peer_cmd(w .. " " .. size .. " --output " .. q(out))
        else
          env, cmd = orchestra_cmd(e, q(w) .. size_arg .. " --no-count --output " .. q(out))
        end
        local line, wall, rss = timed(w .. " run " .. r .. " on " .. e, env, cmd)
        check_written(w .. " run " .. r .. " on " .. e, w, size, out)
        if line.limits then limits = line.limits end
        if r > opts.warmup then
          local s = samples[e]
          s.s[#s.s + 1], s.wall[#s.wall + 1], s.rss[#s.rss + 1] = line.seconds, wall, rss
        end
      end
    end
    local med = {}
    for _, e in ipairs(engines) do
      local s = samples[e]
      med[e] = { s = median(s.s), wall = median(s.wall), rss = median(s.rss),
                 min = math.min(table.unpack(s.s)), max = math.max(table.unpack(s.s)) }
    end
    rows[#rows + 1] = { w = w, size = size, t = W.transitions(w, size), med = med,
                        limits = limits ~= "" and limits or "defaults" }
    say("%s: done", w)
  end

  local out = {
    "### Workloads",
    "",
    string.format("%d warm-up + %d counted runs per engine and workload, the engines alternating run by run; "
      .. "every figure is the median of the counted runs. **s**: in-process seconds, definition load + run "
      .. "(orchestra: `orchestra.engine{}` + `engine:load` + `machine:start_json` + `ex:wait()`; peer: "
      .. "`new StateMachine` (validation) + run); **wall s** and **peak RSS** are the whole process's, from "
      .. "`/usr/bin/time -v`. **speed × peer** = peer s / orchestra s (higher is better); **RSS / peer** = "
      .. "orchestra RSS / peer RSS (lower is better). Every output was compared with the expected output "
      .. "(key order ignored) in every run (in the timed runs each engine writes its output to a file and "
      .. "this harness compares it, so that no process's peak RSS includes a checker; orchestra's runs also "
      .. "check the engine's transition counter `ex.transitions`), and the states entered were counted from "
      .. "each engine's history (StateEntered events) in a separate checking run; all matched.", opts.warmup, opts.runs),
    "",
    "| workload | size | transitions | engine | s (in-process) | transitions/s | speed × peer | wall s | peak RSS MiB | RSS / peer | min–max s | orchestra limits raised |",
    "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
  }
  for _, row in ipairs(rows) do
    local peer = row.med.peer
    for _, e in ipairs(engines) do
      local m = row.med[e]
      local name = e == "peer" and "peer (Node 22)" or ("orchestra " .. e)
      local speed = (peer and e ~= "peer") and (fmt(peer.s / m.s, 1) .. "×") or ""
      local rssr = (peer and e ~= "peer") and fmt(m.rss / peer.rss, 2) or ""
      out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s–%s | %s |",
        row.w, fmt_int(row.size), fmt_int(row.t), name, fmt(m.s, 4), fmt_int(row.t / m.s), speed,
        fmt(m.wall, 2), fmt(m.rss, 1), rssr, fmt(m.min, 3), fmt(m.max, 3),
        e == "peer" and "" or row.limits)
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "orchestra runs with its default options (real clock, full history, "
    .. "max_transitions_per_step 300 units) except the limits named in the last column "
    .. "(0 = unlimited; AWS's defaults are 262,144-byte payloads and 25,000 history events). "
    .. "The peer has no such limits. task_calls' handler is a Lua function returning a shallow "
    .. "copy of its input with calls + 1 (the peer: an async JS function doing the same)."
  emit(table.concat(out, "\n"))
end

-- }======

-- {====== growth

local function run_growth()
  local sizes = opts.smoke and { 10, 100 } or { 1000, 10000, 100000, 1000000 }
  local series = {
    { "pass_chain", "full" }, { "pass_chain", "none" }, { "pass_chain", "last:1000" },
    { "map_inline", "full" }, { "map_inline", "none" },
    { "map_distributed", "full" }, { "map_distributed", "none" },
  }
  say("== growth (lua5.4)")
  local out = {
    "### Growth (orchestra under lua5.4, one run per size)",
    "",
    "pass_chain: N loop iterations (3N + 2 transitions); map_inline / map_distributed: a Map over K "
      .. "items (3K + 1 transitions), map_distributed being map_inline's machine with "
      .. "`ProcessorConfig: {Mode: DISTRIBUTED}`. **µs / transition** is the in-process time divided "
      .. "by the transitions: flat when time is linear. **run peak RSS** is the process's peak from just "
      .. "before the run (after the input was built; `/proc/self/clear_refs`) to its end; **process** "
      .. "columns are `/usr/bin/time -v`'s, input generation and output checking included. Outputs "
      .. "checked at every size.",
    "",
    "| workload | N or K | history | transitions | s (in-process) | µs / transition | run peak RSS MiB | bytes / transition | process wall s | process peak RSS MiB |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  }
  for _, sr in ipairs(series) do
    for _, n in ipairs(sizes) do
      local env, cmd = orchestra_cmd("lua5.4", q(sr[1]) .. " --size " .. n .. " --history " .. sr[2] .. " --no-count")
      local line, wall, rss = timed(sr[1] .. " growth " .. n, env, cmd)
      local t = line.transitions
      out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
        sr[1], fmt_int(n), sr[2], fmt_int(t), fmt(line.seconds, 4), fmt(line.seconds * 1e6 / t, 3),
        fmt(line.peak_rss_mb, 1), fmt_int(line.peak_rss_mb * 1048576 / t), fmt(wall, 2), fmt(rss, 1))
      say("%s %s %d: %.3f s", sr[1], sr[2], n, line.seconds)
    end
  end
  emit(table.concat(out, "\n"))
end

-- }======

-- {====== suspended executions

local function run_suspended()
  local n = opts.smoke and 100 or 100000
  say("== %d suspended executions", n)
  local out = {
    string.format("### %s executions suspended on a task token at once", fmt_int(n)),
    "",
    "One process, one engine (virtual clock), a one-state machine whose Task handler keeps "
      .. "`context.Task.Token` and returns `orchestra.pending`; all executions are started, the "
      .. "engine is stepped until idle, then every token is answered with `engine:task_success` "
      .. "and every execution checked SUCCEEDED with the right output. **RSS / exec** = growth of "
      .. "VmRSS while starting them / N; **Lua heap / exec** = growth of `collectgarbage(\"count\")` "
      .. "(the host's execution handles and token strings); **engine / exec** = RSS − Lua heap − "
      .. "payload (the input JSON text, ~12 bytes).",
    "",
    "| Lua | history | start all s | complete all s | RSS / exec bytes | Lua heap / exec bytes | payload / exec bytes | engine / exec bytes | peak RSS MiB |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  }
  for _, lua in ipairs(LUAS) do
    for _, hist in ipairs({ "full", "none" }) do
      local env, cmd = orchestra_cmd(lua, "suspended --executions " .. n .. " --history " .. hist)
      local line, _, rss = timed("suspended " .. lua, env, cmd)
      out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", lua, hist,
        fmt(line.start_seconds, 3), fmt(line.complete_seconds, 3), fmt_int(line.rss_bytes_per_execution),
        fmt_int(line.lua_heap_bytes_per_execution), fmt(line.payload_bytes_per_execution, 1),
        fmt_int(line.engine_bytes_per_execution), fmt(rss, 1))
    end
  end
  emit(table.concat(out, "\n"))
end

-- }======

-- {====== step latency

local function run_latency()
  local args = opts.smoke and "latency --executions 50 --maps 5 --items 10" or "latency"
  say("== engine:step() latency")
  local out = {
    "| Lua | steps | p50 µs | p90 µs | p99 µs | max µs | steps > 1 ms | total in step() s | peak RSS MiB |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  }
  for i, lua in ipairs(LUAS) do
    local env, cmd = orchestra_cmd(lua, args)
    local line, _, rss = timed("latency " .. lua, env, cmd)
    if i == 1 then
      table.insert(out, 1, table.concat({
        string.format("### engine:step() latency with %s workflows in flight", fmt_int(line.in_flight)),
        "",
        string.format("One engine (virtual clock, default work bound of 300 units per step: a transition or timer 1, a task handed to a handler 10): %s "
          .. "executions of Prepare (Pass) → Pause (Wait 0–3 s) → Work (Task) → Check (Choice) → Done, "
          .. "and %s executions of an inline Map running the same five states over %s items at once "
          .. "(MaxConcurrency %s): %s workflows in flight. Work's handler keeps the token and "
          .. "returns `orchestra.pending`; after every `engine:step()` the host answers the %s oldest "
          .. "pending tasks. Every step is timed with %s (orchestra.monotonic); every execution "
          .. "is checked SUCCEEDED.", fmt_int(line.executions), fmt_int(line.maps), fmt_int(line.items),
          fmt_int(line.items), fmt_int(line.in_flight), fmt_int(line.answers_per_step), line.clock),
        "",
      }, "\n"))
    end
    out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", lua,
      fmt_int(line.steps), fmt(line.p50_us, 1), fmt(line.p90_us, 1), fmt(line.p99_us, 1),
      fmt(line.max_us, 1), fmt_int(line.steps_over_1ms), fmt(line.step_seconds_total, 3), fmt(rss, 1))
  end
  emit(table.concat(out, "\n"))
end

-- }======

-- {====== the cost model's simulation

local function run_simulate()
  local n = opts.smoke and 200 or 100000
  say("== cost.simulate of the order example")
  local out = {
    string.format("### orchestra.cost.simulate: %s executions of the order example", fmt_int(n)),
    "",
    "`bench/simulate.lua`: `orchestra.cost.simulate` runs examples/order (two Lambda tasks, a "
      .. "lambda:invoke with Retry, a Choice, a 900-second Wait on the virtual clock, a Pass) "
      .. "with its Lua task handlers, one execution after another, and checks every run "
      .. "SUCCEEDED and the mean transitions.",
    "",
    "| Lua | executions | seconds | executions/s | peak RSS MiB |",
    "|---|---:|---:|---:|---:|",
  }
  for _, lua in ipairs(LUAS) do
    local line, _, rss = timed("simulate " .. lua, lua_env(lua),
      lua .. " " .. q(ROOT .. "/bench/simulate.lua") .. " --runs " .. n)
    out[#out + 1] = string.format("| %s | %s | %s | %s | %s |", lua, fmt_int(line.runs),
      fmt(line.seconds, 2), fmt_int(line.per_second), fmt(rss, 1))
  end
  emit(table.concat(out, "\n"))
end

-- }======

-- {====== instructions per transition

local function run_callgrind()
  say("== callgrind (slow)")
  local p = io.popen("BUILD=" .. q(BUILD) .. " sh " .. q(ROOT .. "/bench/callgrind.sh") .. " 2>&1")
  local text = p:read("*a")
  local okc = p:close()
  if not okc then die("bench/callgrind.sh failed:\n%s", text) end
  emit("### Instructions per transition (callgrind)\n\n" .. text:gsub("%s+$", ""))
end

-- }======

local header = "## Latest run\n\n" .. machine()
emit(header)
if parts.table then run_table() end
if parts.growth then run_growth() end
if parts.suspended then run_suspended() end
if parts.latency then run_latency() end
if parts.simulate then run_simulate() end
if parts.callgrind then run_callgrind() end
cleanup()

if opts.out then
  local block = "<!-- bench:begin (written by bench/bench.lua; edit outside the markers) -->\n"
    .. table.concat(sections, "\n\n") .. "\n<!-- bench:end -->"
  local old = slurp(opts.out)
  local text
  if old and old:find("<!-- bench:begin", 1, true) then
    local a = old:find("<!-- bench:begin", 1, true)
    local _, b = old:find("<!-- bench:end -->", a, true)
    text = old:sub(1, a - 1) .. block .. (b and old:sub(b + 1) or "\n")
  else
    text = (old or "# Benchmark results\n\n") .. block .. "\n"
  end
  local f = assert(io.open(opts.out, "wb"))
  f:write(text)
  f:close()
  say("written: %s", opts.out)
end
