--- `orchestra cost ...`: the cost model's sub-commands (called by
-- orchestra.cli).
-- @module orchestra.cli_cost

local orchestra = require "orchestra"
local cost = orchestra.cost

local M = {}

M.EXIT_OK = 0
M.EXIT_INVALID = 2   -- a history, scenario or price file that is not valid
M.EXIT_USAGE = 64
M.EXIT_NOINPUT = 66

M.USAGE = [[
usage: orchestra cost <command> [<args>] [--format table|csv|json|svg] [--prices FILE]

  history HISTORY.json [--type standard|express] [--memory-mb N] [--region R]
                       [--free-tier]
        the measured cost of an execution (the history `orchestra run
        --history` writes): billed transitions = states entered + retries
  scenario FILE.lua [--volumes N,N,...] [--sensitivity]
        FILE returns a scenario table (or a list of them: a comparison);
        per execution and monthly, with --volumes a sweep, with
        --sensitivity the inputs ranked by their effect (+-20 %)
  compare FILE.lua... [--volumes N,N,...]
        each FILE returns a scenario or a list; monthly totals at each volume
        (default 1000,10000,100000,1000000) and break-even volumes
  simulate DEF.json [--runs N] [--tasks TASKS.lua] [--input IN.json]
                    [--seed N] [--fail RESOURCE=RATE]... [--executions N]
                    [--choice STATE=NEXT:P,NEXT:P,...]...
        run the definition N times on the virtual clock (TASKS.lua handlers
        get (input, context, random)) and report transitions and cost per
        execution: mean, p50, p95, p99; --choice takes Choice state STATE
        to each NEXT state (a Next or its Default) with probability P
        instead of evaluating its rules (the P of a state sum to 1)

--format svg draws monthly cost against volume (scenario, compare).
--prices FILE merges a price file (the shape of data/prices.json) into the
shipped catalog.
]]

local function err(fmt, ...)
  io.stderr:write("orchestra: cost: ", string.format(fmt, ...), "\n")
end

local function read_file(path)
  local f, e = io.open(path, "rb")
  if not f then return nil, e end
  local text = f:read("*a")
  f:close()
  return text
end

-- "--flag value", "--flag=value"; spec maps a flag to "value", "bool" or
-- "list" (repeatable).
local function parse(args, first, spec)
  local opts, positional = {}, {}
  local i = first
  while i <= #args do
    local a = args[i]
    if a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if not kind then return nil, "unknown option '--" .. name .. "'" end
      if kind == "bool" then
        opts[name] = true
      else
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then return nil, "option '--" .. name .. "' needs a value" end
        end
        if kind == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], value)
        else
          opts[name] = value
        end
      end
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  return opts, positional
end

local function problem(e)
  if type(e) == "table" then
    local where = e.pointer and e.pointer ~= "" and not tostring(e.message):find(e.pointer, 1, true)
      and (e.pointer .. ": ") or ""
    return where .. tostring(e.message)
  end
  return tostring(e)
end

local function volumes_of(text)
  local list = {}
  for item in tostring(text):gmatch("[^,]+") do
    local n = tonumber(item)
    if not n or n < 0 then return nil, "--volumes takes numbers separated by commas, not '" .. text .. "'" end
    list[#list + 1] = n
  end
  if #list == 0 then return nil, "--volumes is empty" end
  return list
end

local FORMATS = { table = true, csv = true, json = true, svg = true }

local function emit(result, format)
  if format == "svg" then
    if not result.svg then return nil, "--format svg needs a comparison or a sweep" end
    io.stdout:write(result:svg())
  elseif format == "csv" then
    io.stdout:write(result:csv())
  elseif format == "json" then
    io.stdout:write(result:json())
  else
    io.stdout:write(result:table())
  end
  return true
end

-- Load a Lua file returning a scenario or a list of scenarios.
local function scenarios_from(path)
  local chunk, le = loadfile(path)
  if not chunk then return nil, "cannot load " .. tostring(le), M.EXIT_NOINPUT end
  local ok, t = pcall(chunk)
  if not ok then return nil, path .. " failed: " .. tostring(t), M.EXIT_INVALID end
  if type(t) ~= "table" then
    return nil, path .. " must return a scenario table or a list of them", M.EXIT_INVALID
  end
  if t[1] ~= nil then return t end
  return { t }
end

local function cmd_history(opts, pos)
  if #pos ~= 1 then err("history: expected one history file (see orchestra cost --help)") return M.EXIT_USAGE end
  local text, e = read_file(pos[1])
  if not text then err("history: cannot read %s", e) return M.EXIT_NOINPUT end
  local o = { free_tier = opts["free-tier"] or nil, region = opts.region }
  if opts.type then
    local t = opts.type:upper()
    if t ~= "STANDARD" and t ~= "EXPRESS" then
      err("history: --type must be standard or express, not '%s'", opts.type)
      return M.EXIT_USAGE
    end
    o.type = t
  end
  if opts["memory-mb"] then
    o.memory_mb = tonumber(opts["memory-mb"])
    if not o.memory_mb or o.memory_mb <= 0 then
      err("history: --memory-mb needs a positive number, not '%s'", opts["memory-mb"])
      return M.EXIT_USAGE
    end
  end
  local ok, result = pcall(cost.of, text, o)
  if not ok then err("history: %s: %s", pos[1], problem(result)) return M.EXIT_INVALID end
  return result
end

local function cmd_scenario(opts, pos)
  if #pos ~= 1 then err("scenario: expected one scenario file (see orchestra cost --help)") return M.EXIT_USAGE end
  local list, e, code = scenarios_from(pos[1])
  if not list then err("scenario: %s", e) return code end
  local volumes
  if opts.volumes then
    volumes, e = volumes_of(opts.volumes)
    if not volumes then err("scenario: %s", e) return M.EXIT_USAGE end
  end
  local ok, result = pcall(function()
    if opts.sensitivity then
      if #list ~= 1 then error("--sensitivity takes one scenario", 0) end
      return cost.sensitivity(list[1])
    end
    if #list > 1 then return cost.compare(list, { volumes = volumes }) end
    if volumes or opts.format == "svg" then return cost.sweep(list[1], volumes) end
    return cost.scenario(list[1])
  end)
  if not ok then err("scenario: %s: %s", pos[1], problem(result)) return M.EXIT_INVALID end
  return result
end

local function cmd_compare(opts, pos)
  if #pos < 1 then err("compare: expected scenario files (see orchestra cost --help)") return M.EXIT_USAGE end
  local all = {}
  for _, path in ipairs(pos) do
    local list, e, code = scenarios_from(path)
    if not list then err("compare: %s", e) return code end
    for _, s in ipairs(list) do all[#all + 1] = s end
  end
  local volumes, e
  if opts.volumes then
    volumes, e = volumes_of(opts.volumes)
    if not volumes then err("compare: %s", e) return M.EXIT_USAGE end
  end
  local ok, result = pcall(cost.compare, all, { volumes = volumes })
  if not ok then err("compare: %s", problem(result)) return M.EXIT_INVALID end
  return result
end

local function cmd_simulate(opts, pos)
  if #pos ~= 1 then err("simulate: expected one definition file (see orchestra cost --help)") return M.EXIT_USAGE end
  local def, e = read_file(pos[1])
  if not def then err("simulate: cannot read %s", e) return M.EXIT_NOINPUT end
  local sim = { definition = def }
  for _, name in ipairs({ "runs", "seed", "executions" }) do
    if opts[name] then
      local n = tonumber(opts[name])
      if not n or n < 1 or n ~= math.floor(n) then
        err("simulate: --%s needs a positive integer, not '%s'", name, opts[name])
        return M.EXIT_USAGE
      end
      sim[name] = n
    end
  end
  if opts.input then
    sim.input, e = read_file(opts.input)
    if not sim.input then err("simulate: cannot read %s", e) return M.EXIT_NOINPUT end
  end
  if opts.tasks then
    local chunk, le = loadfile(opts.tasks)
    if not chunk then err("simulate: cannot load %s", le) return M.EXIT_NOINPUT end
    local ok, t = pcall(chunk)
    if not ok or type(t) ~= "table" then
      err("simulate: %s must return a table mapping Resource to a handler function", opts.tasks)
      return M.EXIT_USAGE
    end
    sim.tasks = t
  end
  sim.failures = {}
  for _, f in ipairs(opts.fail or {}) do
    local res, rate = f:match("^(.+)=([%d.]+)$")
    rate = tonumber(rate)
    if not res or not rate or rate > 1 then
      err("simulate: --fail takes RESOURCE=RATE with a rate between 0 and 1, not '%s'", f)
      return M.EXIT_USAGE
    end
    sim.failures[res] = rate
  end
  for _, c in ipairs(opts.choice or {}) do
    local state, list = c:match("^([^=]+)=(.+)$")
    local probs = {}
    for item in (list or ""):gmatch("[^,]+") do
      local nxt, p = item:match("^(.+):([%d.eE+-]+)$")
      p = tonumber(p)
      if not nxt or not p then state = nil break end
      probs[nxt] = p
    end
    if not state or next(probs) == nil then
      err("simulate: --choice takes STATE=NEXT:P,NEXT:P,... (e.g. Check=Retry:0.7,Done:0.3), not '%s'", c)
      return M.EXIT_USAGE
    end
    sim.choices = sim.choices or {}
    sim.choices[state] = probs
  end
  local ok, result = pcall(cost.simulate, sim)
  if not ok then err("simulate: %s", problem(result)) return M.EXIT_INVALID end
  return result
end

--- Run `orchestra cost ...`; args is the whole argument list (args[1] is
-- "cost"). Returns the exit status.
function M.main(args)
  local sub = args[2]
  if sub == nil or sub == "-h" or sub == "--help" or sub == "help" then
    local out = sub and io.stdout or io.stderr
    out:write(M.USAGE)
    return sub and M.EXIT_OK or M.EXIT_USAGE
  end
  local commands = {
    history = { cmd_history, { type = "value", ["memory-mb"] = "value", region = "value",
      ["free-tier"] = "bool" } },
    scenario = { cmd_scenario, { volumes = "value", sensitivity = "bool" } },
    compare = { cmd_compare, { volumes = "value" } },
    simulate = { cmd_simulate, { runs = "value", tasks = "value", input = "value", seed = "value",
      fail = "list", executions = "value", choice = "list" } },
  }
  local c = commands[sub]
  if not c then err("unknown command '%s' (see orchestra cost --help)", sub) return M.EXIT_USAGE end
  c[2].format = "value"
  c[2].prices = "value"
  local opts, pos = parse(args, 3, c[2])
  if not opts then err("%s: %s", sub, pos) return M.EXIT_USAGE end
  local format = opts.format or "table"
  if not FORMATS[format] then
    err("%s: --format must be table, csv, json or svg, not '%s'", sub, format)
    return M.EXIT_USAGE
  end
  if opts.prices then
    local ok, e = pcall(cost.load_prices, opts.prices)
    if not ok then
      local msg = problem(e)
      err("%s: --prices: %s", sub, msg)
      return msg:find("cannot read", 1, true) and M.EXIT_NOINPUT or M.EXIT_INVALID
    end
  end
  local result = c[1](opts, pos)
  if type(result) == "number" then return result end
  local ok, e = emit(result, format)
  if not ok then err("%s: %s", sub, e) return M.EXIT_USAGE end
  return M.EXIT_OK
end

return M
