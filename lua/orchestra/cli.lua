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

local USAGE = [[
usage: orchestra [--help] [--version] <command> [<args>]

Run Amazon States Language state machines, agents and cost models.

commands:
  run DEF.json [--input IN.json | --input-json TEXT] [--tasks TASKS.lua]
               [--clock real|virtual] [--history OUT.json] [--name NAME]
               [--max-payload-bytes N] [--max-history-events N]
               [--history-retention full|none|last:N] [--seed N]
               [--data-dir DIR]
                          run a state machine, print its output
  validate DEF.json       check a definition, print pointer + message per error
  graph DEF.json [--format dot|mermaid] [--history HISTORY.json]
                          draw a state machine, coloured by a history if given
  cost ...                what-if costs and the cost of a recorded history

options:
  -h, --help              show this help
  -V, --version           show the version

run prints the execution's output JSON and exits 0; when the execution fails
it prints {"Error": ..., "Cause": ...} and exits 1. The clock is virtual
unless --clock real is given: Wait states and retry back-offs then take no
real time. TASKS.lua returns a table mapping a Task's Resource ("prefix*"
matches by prefix) to function(input, context); a handler fails the task
with error({Error = "Name", Cause = "text"}). A distributed Map's ItemReader
and ResultWriter read and write the S3 object s3://BUCKET/KEY as the file
DIR/BUCKET/KEY (--data-dir, default: the current directory).

exit status: 0 success, 1 execution failed, 2 invalid definition,
             64 usage error or command not available yet, 66 unreadable file
]]

-- The sub-commands whose work has not landed yet: they say so and exit 64,
-- never printing made-up output.
local PENDING = {
}

local function err(fmt, ...)
  io.stderr:write("orchestra: ", string.format(fmt, ...), "\n")
end

local function read_file(path)
  local f, e = io.open(path, "rb")
  if not f then return nil, e end
  local text = f:read("*a")
  f:close()
  return text
end

local function write_file(path, text)
  local f, e = io.open(path, "wb")
  if not f then return nil, e end
  f:write(text)
  f:close()
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

-- One "<JSON pointer>: <message>" line per problem ("(root)" for "").
local function print_problems(errors)
  for _, e in ipairs(errors) do
    io.stderr:write(e.pointer == "" and "(root)" or e.pointer, ": ", e.message, "\n")
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
  if #pos ~= 1 then err("validate: expected one definition file (see orchestra --help)") return M.EXIT_USAGE end
  local text, e = read_file(pos[1])
  if not text then err("validate: cannot read %s", e) return M.EXIT_NOINPUT end
  local ok, errors = orchestra.validate(text)
  if ok then
    io.stdout:write(pos[1], ": valid\n")
    return M.EXIT_OK
  end
  print_problems(errors)
  return M.EXIT_INVALID
end

-- Draw the definition; problems that only say a feature is "not supported
-- yet" by the executor (Map, Parallel, JSONata...) do not stop a drawing.
local function cmd_graph(args)
  local opts, pos = parse(args, 2, { format = "value", history = "value" })
  if not opts then err("graph: %s", pos) return M.EXIT_USAGE end
  if #pos ~= 1 then err("graph: expected one definition file (see orchestra --help)") return M.EXIT_USAGE end
  local format = opts.format or "dot"
  if format ~= "dot" and format ~= "mermaid" then
    err("graph: --format must be dot or mermaid, not '%s'", format)
    return M.EXIT_USAGE
  end
  local text, e = read_file(pos[1])
  if not text then err("graph: cannot read %s", e) return M.EXIT_NOINPUT end
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
      print_problems(#problems > 0 and problems or errors)
      return M.EXIT_INVALID
    end
  end
  local history
  if opts.history then
    local htext, he = read_file(opts.history)
    if not htext then err("graph: cannot read %s", he) return M.EXIT_NOINPUT end
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
  if #pos ~= 1 then err("run: expected one definition file (see orchestra --help)") return M.EXIT_USAGE end
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
  if not (retention == "full" or retention == "none" or retention:match("^last:%d+$")) then
    err("run: --history-retention must be full, none or last:N, not '%s'", retention)
    return M.EXIT_USAGE
  end
  local limits = {}
  for _, name in ipairs({ "max-payload-bytes", "max-history-events", "seed" }) do
    local n, e = nonneg(opts, name)
    if e then err("run: %s", e) return M.EXIT_USAGE end
    limits[name] = n
  end

  local def_text, e = read_file(pos[1])
  if not def_text then err("run: cannot read %s", e) return M.EXIT_NOINPUT end

  local input_text = opts["input-json"]
  if opts.input then
    input_text, e = read_file(opts.input)
    if not input_text then err("run: cannot read %s", e) return M.EXIT_NOINPUT end
  end
  input_text = input_text or "{}"

  local handlers = {}
  if opts.tasks then
    local chunk, le = loadfile(opts.tasks)
    if not chunk then err("run: cannot load %s", le) return M.EXIT_NOINPUT end
    local ok, t = pcall(chunk)
    if not ok then err("run: %s failed: %s", opts.tasks, tostring(t)) return M.EXIT_USAGE end
    if type(t) ~= "table" then
      err("run: %s must return a table mapping Resource to a handler function", opts.tasks)
      return M.EXIT_USAGE
    end
    handlers = t
  end

  local engine = orchestra.engine {
    clock = clock,
    max_payload_bytes = limits["max-payload-bytes"],
    max_history_events = limits["max-history-events"],
    history = retention,
    seed = limits.seed,
    data_dir = opts["data-dir"],
  }
  for resource, fn in pairs(handlers) do
    if type(resource) ~= "string" or type(fn) ~= "function" then
      err("run: %s: entries must map a Resource string to a function", opts.tasks)
      return M.EXIT_USAGE
    end
    engine:handler(resource, fn)
  end

  local base = pos[1]:match("([^/]+)$"):gsub("%.asl%.json$", ""):gsub("%.json$", "")
  base = base:gsub("[^%w%-_]", "_")
  local ok, machine = pcall(engine.load, engine, def_text, { name = base })
  if not ok then
    if type(machine) == "table" and machine.errors then
      print_problems(machine.errors)
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
  local status = ex:wait()
  if opts.history then
    local wrote, we = write_file(opts.history, ex:history_json({ indent = true }) .. "\n")
    if not wrote then err("run: cannot write the history: %s", we) end
  end
  if status == "SUCCEEDED" then
    io.stdout:write(ex:output_json(), "\n")
    return M.EXIT_OK
  end
  if status == "RUNNING" then
    err("run: the execution is still running but nothing can move it on "
      .. "(a task is pending with no handler to answer it)")
    return M.EXIT_FAILED
  end
  local result = orchestra.object()
  result.Error = ex.error
  result.Cause = ex.cause
  io.stdout:write(orchestra.json.encode(result), "\n")
  return M.EXIT_FAILED
end

--- Run the tool with the argument list `args` (as `arg`); returns the exit
-- status.
-- @tparam table args
-- @treturn integer exit status
function M.main(args)
  args = args or {}
  local first = args[1]
  if first == nil then
    io.stderr:write(USAGE)
    return M.EXIT_USAGE
  end
  if first == "-h" or first == "--help" or first == "help" then
    io.stdout:write(USAGE)
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
  if first == "run" then return cmd_run(args) end
  if first == "validate" then return cmd_validate(args) end
  if first == "graph" then return cmd_graph(args) end
  if first == "cost" then return require("orchestra.cli_cost").main(args) end
  local pending = PENDING[first]
  if pending then
    err("'%s' is not available yet: it arrives with %s", first, pending)
    return M.EXIT_USAGE
  end
  err("unknown command '%s' (see orchestra --help)", first)
  return M.EXIT_USAGE
end

return M
