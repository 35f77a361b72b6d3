--- The command-line tool's internals: `bin/orchestra` calls `main(arg)`.
-- @module orchestra.cli

local orchestra = require "orchestra"

local M = {}

-- Exit statuses (sysexits.h names where one fits).
M.EXIT_OK = 0
M.EXIT_FAILED = 1      -- the execution failed
M.EXIT_INVALID = 2     -- the definition is invalid
M.EXIT_USAGE = 64      -- bad command line, or a command not available yet
M.EXIT_NOINPUT = 66    -- a file could not be read

M.EXIT_SOFTWARE = 70   -- an internal error (a bug: please report it)
M.EXIT_CANTCREAT = 73  -- a requested output could not be written

--- The commands: name -> {summary =, usage =, help =, run = function(args)
-- -> exit status}, in `M.order` for the help. A module adds one with
-- `M.command{...}` (see lua/orchestra/cli_history.lua); `orchestra CMD
-- --help` and `orchestra help CMD` print its usage and help.
M.commands = {}
M.order = {}

--- Add a command. `spec.usage` is its synopsis lines (without
-- "usage: orchestra"), `spec.summary` one line for the command list,
-- `spec.help` the text after the synopsis.
-- @tparam table spec `name`, `summary`, `usage`, `help`, `run`
function M.command(spec)
  assert(type(spec.name) == "string" and type(spec.run) == "function")
  if not M.commands[spec.name] then M.order[#M.order + 1] = spec.name end
  M.commands[spec.name] = spec
end

local function usage()
  local lines = {
    "usage: orchestra [--help] [--version] <command> [<args>]",
    "",
    "Run Amazon States Language state machines and read their histories.",
    "",
    "commands:",
  }
  for _, name in ipairs(M.order) do
    lines[#lines + 1] = string.format("  %-10s %s", name, M.commands[name].summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "options:"
  lines[#lines + 1] = "  -h, --help     show this help; orchestra <command> --help for a command's"
  lines[#lines + 1] = "  -V, --version  show the version"
  lines[#lines + 1] = ""
  lines[#lines + 1] = "exit status: 0 success, 1 execution failed, 2 invalid definition,"
  lines[#lines + 1] = "             64 usage error, 66 unreadable file, 73 unwritable output"
  return table.concat(lines, "\n") .. "\n"
end

-- "usage: orchestra <synopsis>", continuation lines (indented in
-- cmd.usage) under it, a further synopsis line per form, then the help.
local function command_usage(cmd)
  local lines = {}
  for line in (cmd.usage .. "\n"):gmatch("(.-)\n") do
    if line:match("^%s") then
      lines[#lines + 1] = "       " .. line
    else
      lines[#lines + 1] = (#lines == 0 and "usage: orchestra " or "       orchestra ") .. line
    end
  end
  local text = table.concat(lines, "\n") .. "\n"
  if cmd.help then text = text .. "\n" .. cmd.help end
  return text
end

-- True when args (from index 2) ask for the command's help.
local function wants_help(args)
  for i = 2, #args do
    if args[i] == "--help" or args[i] == "-h" then return true end
  end
  return false
end

-- The sub-commands whose work has not landed yet: they say so and exit 64,
-- never printing made-up output (the help does not list them).
local PENDING = {
}

local function err(fmt, ...)
  io.stderr:write("orchestra: ", string.format(fmt, ...), "\n")
end

--- Read a file whole; "-" is standard input. Returns the text, or nil and
-- "cannot read PATH: why".
function M.read_file(path)
  if path == "-" then return io.stdin:read("*a") end
  local f, e = io.open(path, "rb")
  if not f then return nil, "cannot read " .. e end
  local text = f:read("*a")
  f:close()
  if text == nil then return nil, "cannot read " .. path end
  return text
end
local read_file = M.read_file

-- Write text to a file; "-" is standard output. Returns true, or nil and
-- "cannot write PATH: why".
local function write_file(path, text)
  if path == "-" then
    io.stdout:write(text)
    return true
  end
  local f, e = io.open(path, "wb")
  if not f then return nil, "cannot write " .. e end
  local ok, we = f:write(text)
  local closed, ce = f:close()
  if not ok or not closed then
    return nil, "cannot write " .. path .. ": " .. tostring(we or ce)
  end
  return true
end

-- Parse "--flag value" options; `spec` maps a flag to "value" or "bool".
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
        opts[name] = value
      end
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  return opts, positional
end

-- One "<file>: <JSON pointer>: <message>" line per problem ("(root)" for
-- the pointer "").
local function print_problems(file, errors)
  for _, e in ipairs(errors) do
    io.stderr:write(file, ": ", (e.pointer == nil or e.pointer == "") and "(root)" or e.pointer,
      ": ", e.message, "\n")
  end
end

local function nonneg(opts, name)
  local v = opts[name]
  if v == nil then return nil end
  local n = tonumber(v)
  if not n or n < 0 or n ~= math.floor(n) then
    return nil, "option '--" .. name .. "' needs a non-negative integer, not '" .. v .. "'"
  end
  return n
end

local function cmd_validate(args)
  local opts, pos = parse(args, 2, {})
  if not opts then err("validate: %s", pos) return M.EXIT_USAGE end
  if #pos ~= 1 then err("validate: expected one definition file (see orchestra validate --help)") return M.EXIT_USAGE end
  local text, e = read_file(pos[1])
  if not text then err("validate: %s", e) return M.EXIT_NOINPUT end
  local ok, errors = orchestra.validate(text)
  if ok then
    io.stdout:write(pos[1], ": valid\n")
    return M.EXIT_OK
  end
  print_problems(pos[1], errors)
  return M.EXIT_INVALID
end

-- Draw the definition; problems that only say a feature is "not supported
-- yet" by the executor (Map, Parallel, JSONata...) do not stop a drawing.
local function cmd_graph(args)
  local opts, pos = parse(args, 2, { format = "value", history = "value" })
  if not opts then err("graph: %s", pos) return M.EXIT_USAGE end
  if #pos ~= 1 then err("graph: expected one definition file (see orchestra graph --help)") return M.EXIT_USAGE end
  local format = opts.format or "dot"
  if format ~= "dot" and format ~= "mermaid" then
    err("graph: --format must be dot or mermaid, not '%s'", format)
    return M.EXIT_USAGE
  end
  local text, e = read_file(pos[1])
  if not text then err("graph: %s", e) return M.EXIT_NOINPUT end
  local decoded, definition = pcall(orchestra.json.decode, text)
  if not decoded then
    err("graph: %s is not JSON: %s", pos[1], tostring(definition))
    return M.EXIT_INVALID
  end
  local ok, errors = orchestra.validate(text)
  if not ok then
    local problems = {}
    for _, p in ipairs(errors) do
      if not p.message:find("not supported yet", 1, true) then problems[#problems + 1] = p end
    end
    if #problems > 0 or type(definition) ~= "table" or type(definition.States) ~= "table" then
      print_problems(pos[1], #problems > 0 and problems or errors)
      return M.EXIT_INVALID
    end
  end
  local history
  if opts.history then
    local htext, he = read_file(opts.history)
    if not htext then err("graph: %s", he) return M.EXIT_NOINPUT end
    local hok, h = pcall(orchestra.json.decode, htext)
    if not hok or type(h) ~= "table" or type(h.events) ~= "table" then
      err("graph: %s is not an execution history ({\"events\": [...]})%s", opts.history,
        hok and "" or (": " .. tostring(h)))
      return M.EXIT_USAGE
    end
    history = h
  end
  io.stdout:write(require("orchestra.graph").render(definition,
    { format = format, history = history }))
  return M.EXIT_OK
end

local function cmd_run(args)
  local opts, pos = parse(args, 2, {
    input = "value", ["input-json"] = "value", tasks = "value", clock = "value",
    history = "value", name = "value", ["max-payload-bytes"] = "value",
    ["max-history-events"] = "value", ["history-retention"] = "value", seed = "value",
    ["data-dir"] = "value",
  })
  if not opts then err("run: %s", pos) return M.EXIT_USAGE end
  if #pos ~= 1 then err("run: expected one definition file (see orchestra run --help)") return M.EXIT_USAGE end
  if opts.input and opts["input-json"] then
    err("run: give --input or --input-json, not both")
    return M.EXIT_USAGE
  end
  local clock = opts.clock or "virtual"
  if clock ~= "real" and clock ~= "virtual" then
    err("run: --clock must be real or virtual, not '%s'", clock)
    return M.EXIT_USAGE
  end
  local retention = opts["history-retention"] or "full"
  local keep = retention:match("^last:(%d+)$")
  if not (retention == "full" or retention == "none" or (keep and tonumber(keep) >= 1)) then
    err("run: --history-retention must be full, none or last:N with N >= 1, not '%s'", retention)
    return M.EXIT_USAGE
  end
  if pos[1] == "-" and opts.input == "-" then
    err("run: the definition and --input cannot both be standard input")
    return M.EXIT_USAGE
  end
  local limits = {}
  for _, name in ipairs({ "max-payload-bytes", "max-history-events", "seed" }) do
    local n, e = nonneg(opts, name)
    if e then err("run: %s", e) return M.EXIT_USAGE end
    limits[name] = n
  end

  local def_text, e = read_file(pos[1])
  if not def_text then err("run: %s", e) return M.EXIT_NOINPUT end

  local input_text = opts["input-json"]
  if opts.input then
    input_text, e = read_file(opts.input)
    if not input_text then err("run: %s", e) return M.EXIT_NOINPUT end
  end
  input_text = input_text or "{}"

  local handlers = {}
  if opts.tasks then
    local chunk, le = loadfile(opts.tasks)
    if not chunk then
      -- loadfile says "cannot open PATH: why" or "PATH:LINE: syntax error"
      err("run: %s", le)
      return le:find("^cannot open") and M.EXIT_NOINPUT or M.EXIT_USAGE
    end
    local ok, t = pcall(chunk)
    if not ok then err("run: %s failed: %s", opts.tasks, tostring(t)) return M.EXIT_USAGE end
    if type(t) ~= "table" then
      err("run: %s must return a table mapping Resource to a handler function", opts.tasks)
      return M.EXIT_USAGE
    end
    handlers = t
  end

  local made, engine = pcall(orchestra.engine, {
    clock = clock,
    max_payload_bytes = limits["max-payload-bytes"],
    max_history_events = limits["max-history-events"],
    history = retention,
    seed = limits.seed,
    data_dir = opts["data-dir"],
  })
  if not made then
    err("run: %s", tostring(engine):gsub("^[^:]*:%d+: ", ""))
    return M.EXIT_USAGE
  end
  for resource, fn in pairs(handlers) do
    if type(resource) ~= "string" or type(fn) ~= "function" then
      err("run: %s: entries must map a Resource string to a function", opts.tasks)
      return M.EXIT_USAGE
    end
    engine:handler(resource, fn)
  end

  local base = pos[1] == "-" and "stdin"
    or pos[1]:match("([^/]+)$"):gsub("%.asl%.json$", ""):gsub("%.json$", "")
  base = base:gsub("[^%w%-_]", "_"):sub(1, 80)
  local ok, machine = pcall(engine.load, engine, def_text, { name = base })
  if not ok then
    local file = pos[1] == "-" and "(stdin)" or pos[1]
    if type(machine) == "table" and machine.errors and #machine.errors > 0 then
      print_problems(file, machine.errors)
    elseif type(machine) == "table" then
      print_problems(file, { { pointer = "", message = machine.message } })
    else
      err("run: %s", tostring(machine))
    end
    return M.EXIT_INVALID
  end
  local started, ex = pcall(machine.start_json, machine, input_text, { name = opts.name })
  if not started then
    err("run: %s", tostring(ex))
    return M.EXIT_USAGE
  end
  local status, why = ex:wait()
  -- the output is printed even when the history cannot be written, but the
  -- run then fails: a requested output is missing
  local unwritten = false
  if opts.history then
    local wrote, we = write_file(opts.history, ex:history_json({ indent = true }) .. "\n")
    if not wrote then
      err("run: the history: %s", we)
      unwritten = true
    end
  end
  local code
  if status == "SUCCEEDED" then
    io.stdout:write(ex:output_json(), "\n")
    code = M.EXIT_OK
  elseif status == "RUNNING" then
    err("run: the execution is still running but nothing can move it on "
      .. "(%s)", why)
    code = M.EXIT_FAILED
  else
    local result = orchestra.object()
    result.Error = ex.error
    result.Cause = ex.cause
    io.stdout:write(orchestra.json.encode(result), "\n")
    code = M.EXIT_FAILED
  end
  return unwritten and M.EXIT_CANTCREAT or code
end

M.command {
  name = "run",
  summary = "run a state machine, print its output",
  usage = [=[run DEF.json [--input IN.json | --input-json TEXT] [--tasks TASKS.lua]
    [--clock real|virtual] [--history OUT.json] [--name NAME]
    [--max-payload-bytes N] [--max-history-events N]
    [--history-retention full|none|last:N] [--seed N] [--data-dir DIR]]=],
  help = [[
Runs the definition with the input (default {}) and prints the execution's
output JSON on stdout (exit 0); when the execution fails it prints
{"Error": ..., "Cause": ...} (exit 1); an invalid definition prints
FILE: /json/pointer: message lines on stderr (exit 2). "-" reads the
definition or --input from standard input; --history - writes the history
to standard output (before the output). The clock is virtual unless
--clock real is given: Wait states and retry back-offs take no real time.
TASKS.lua returns a table mapping a Task's Resource ("prefix*" matches by
prefix) to function(input, context); a handler fails the task with
error({Error = "Name", Cause = "text"}). A distributed Map reads and writes
the S3 object s3://BUCKET/KEY as the file DIR/BUCKET/KEY (--data-dir,
default: the current directory).
]],
  run = cmd_run,
}

M.command {
  name = "validate",
  summary = "check a definition, print FILE: pointer: message per problem",
  usage = "validate DEF.json",
  help = [[
Prints "DEF.json: valid" (exit 0), or one "DEF.json: /json/pointer: message"
line per problem on stderr (exit 2). "-" reads standard input.
]],
  run = cmd_validate,
}

M.command {
  name = "graph",
  summary = "draw a state machine (DOT or Mermaid), coloured by a history",
  usage = "graph DEF.json [--format dot|mermaid] [--history HISTORY.json]",
  help = [[
Prints the machine as Graphviz DOT (default) or Mermaid text: Choice rules
as edge labels, Catch edges dashed, Map and Parallel as clusters. With a
history (written by orchestra run --history), visited states are coloured by
outcome.
]],
  run = cmd_graph,
}

M.command {
  name = "cost",
  summary = "measured and what-if costs: history, scenario, compare, simulate",
  usage = "cost history|scenario|compare|simulate ... [--format F]",
  help = [[
orchestra cost --help lists the sub-commands and their options.
]],
  run = function(args) return require("orchestra.cli_cost").main(args) end,
}

--- Run the tool with the argument list `args` (as `arg`); returns the exit
-- status. An unexpected Lua error is reported in one line (exit 70), never
-- as a traceback.
-- @tparam table args
-- @treturn integer exit status
function M.main(args)
  args = args or {}
  for _, name in ipairs({ "orchestra.cli_history", "orchestra.cli_agent" }) do
    local ok, e = pcall(require, name)
    if not ok and not tostring(e):find("module '" .. name .. "' not found", 1, true) then
      err("%s", tostring(e))
      return M.EXIT_SOFTWARE
    end
  end
  local first = args[1]
  if first == nil then
    io.stderr:write(usage())
    return M.EXIT_USAGE
  end
  if first == "-h" or first == "--help" or first == "help" then
    local name = first == "help" and args[2] or nil
    if name and not M.commands[name] then
      err("unknown command '%s' (see orchestra --help)", name)
      return M.EXIT_USAGE
    end
    io.stdout:write(name and command_usage(M.commands[name]) or usage())
    return M.EXIT_OK
  end
  if first == "-V" or first == "--version" then
    io.stdout:write("orchestra ", orchestra.VERSION, " (",
      orchestra.built_for, ")\n")
    return M.EXIT_OK
  end
  if first:sub(1, 1) == "-" then
    err("unknown option '%s' (see orchestra --help)", first)
    return M.EXIT_USAGE
  end
  local cmd = M.commands[first]
  if cmd then
    if wants_help(args) then
      io.stdout:write(command_usage(cmd))
      return M.EXIT_OK
    end
    local ok, status = pcall(cmd.run, args)
    if ok then return status end
    err("%s: internal error: %s", first, tostring(status))
    return M.EXIT_SOFTWARE
  end
  local pending = PENDING[first]
  if pending then
    err("'%s' is not available yet: it arrives with %s", first, pending)
    return M.EXIT_USAGE
  end
  err("unknown command '%s' (see orchestra --help)", first)
  return M.EXIT_USAGE
end

return M
