#!/usr/bin/env lua
--- JSONata mode against JSONPath mode (issue 12's performance part): the
-- pass_chain and map_inline workloads, each also written in JSONata
-- (bench/workloads_jsonata/: the same output and transitions), run by
-- orchestra in both modes, and by the peer on the JSONata form when it
-- supports it. Prints a Markdown table:
--   * wall clock: the median of RUNS runs of bench/run.lua (seconds of the
--     engine's work, as bench.lua measures it), and JSONata / JSONPath;
--   * instructions per transition (valgrind's callgrind, when installed):
--     two sizes subtracted so that start-up and loading cancel out; the
--     steady figure on a noisy machine. Target: JSONata within 2x.
-- Usage (from the repository root; `make bench-jsonata` sets the paths):
--   lua5.4 bench/jsonata_mode.lua [--size N] [--runs R] [--no-callgrind]
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local BUILD = os.getenv("BUILD") or "build"
local PEER_DIR = os.getenv("BENCH_PEER_DIR") or (BUILD .. "/bench-node")
local json = require("orchestra").json

local opts = { runs = 3 }
local i = 1
while arg[i] do
  local a = arg[i]
  if a == "--size" or a == "--runs" then
    opts[a:sub(3)] = tonumber(arg[i + 1]) or error(a .. " needs a number")
    i = i + 1
  elseif a == "--no-callgrind" then
    opts.no_callgrind = true
  else
    io.stderr:write("bench/jsonata_mode.lua: unknown option ", a, "\n")
    os.exit(2)
  end
  i = i + 1
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  local ok = p:close()
  return out, ok
end

local LUA = arg[-1] or "lua5.4"
local function orchestra_run(workload, size, jsonata)
  local cmd = q(LUA) .. " " .. q(here .. "/run.lua") .. " " .. workload .. " --no-count"
    .. (size and (" --size " .. size) or "") .. (jsonata and " --jsonata" or "")
  local out, ok = sh(cmd)
  local line = out:match("(%b{})%s*$")
  if not ok or not line then error("run.lua failed: " .. out) end
  return json.decode(line)
end

local function median(list)
  table.sort(list)
  return list[math.ceil(#list / 2)]
end

local function seconds(workload, size, jsonata)
  local t, last = {}, nil
  for _ = 1, opts.runs do
    last = orchestra_run(workload, size, jsonata)
    t[#t + 1] = last.seconds
  end
  return median(t), last.transitions, last.size
end

-- instructions of one run under callgrind
local function instructions(workload, size, jsonata)
  local out = sh("valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. q(LUA) .. " "
    .. q(here .. "/run.lua") .. " " .. workload .. " --no-count --size " .. size
    .. (jsonata and " --jsonata" or ""))
  return tonumber(out:match("Collected : (%d+)"))
end

local function per_transition(workload, jsonata)
  local n1, n2 = 2000, 6000
  local t = { pass_chain = function(n) return 3 * n + 2 end, map_inline = function(n) return 3 * n + 1 end }
  local a, b = instructions(workload, n1, jsonata), instructions(workload, n2, jsonata)
  if not a or not b then return nil end
  return (b - a) / (t[workload](n2) - t[workload](n1))
end

local have_callgrind = not opts.no_callgrind and select(2, sh("command -v valgrind >/dev/null"))
local have_peer = select(2, sh("test -x " .. q(PEER_DIR .. "/node_modules/.bin/node")))

print("| workload | size | JSONPath s | JSONata s | JSONata / JSONPath (wall) |"
  .. (have_callgrind and " JSONPath Ir/transition | JSONata Ir/transition | ratio (Ir) |" or "")
  .. " peer on JSONata |")
print("|---|---:|---:|---:|---:|" .. (have_callgrind and "---:|---:|---:|" or "") .. "---|")
for _, w in ipairs({ "pass_chain", "map_inline" }) do
  local sp, transitions, size = seconds(w, opts.size, false)
  local sa = seconds(w, opts.size, true)
  local row = string.format("| %s | %d (%d transitions) | %.4f | %.4f | %.2f |", w, size, transitions,
    sp, sa, sa / sp)
  if have_callgrind then
    local ip, ia = per_transition(w, false), per_transition(w, true)
    row = row .. string.format(" %.0f | %.0f | %.2f |", ip, ia, ia / ip)
  end
  local peer = "not installed (make bench installs it)"
  if have_peer then
    local out, ok = sh(q(PEER_DIR .. "/node_modules/.bin/node") .. " " .. q(PEER_DIR .. "/run-peer.mjs")
      .. " " .. w .. " " .. size .. " --jsonata")
    local line = out:match("(%b{})%s*$")
    if ok and line then
      local r = json.decode(line)
      peer = string.format("%.4f s (orchestra JSONata %.1fx faster)", r.seconds, r.seconds / sa)
    else
      peer = "fails: " .. (out:match("[^\n]*") or "?"):sub(1, 120)
    end
  end
  print(row .. " " .. peer .. " |")
end
