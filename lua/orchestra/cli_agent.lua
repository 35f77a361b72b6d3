--- `orchestra agent AGENT.lua "prompt"`: run an agent defined in a Lua
-- file and print its answer, then its steps and token usage.
-- @module orchestra.cli_agent

local orchestra = require "orchestra"
local cli = require "orchestra.cli"

local M = {}

local function err(fmt, ...)
  io.stderr:write("orchestra: agent: ", string.format(fmt, ...), "\n")
end

local OPTIONS = { history = true, clock = true }

local function parse(args)
  local opts, pos = {}, {}
  local i = 2
  while i <= #args do
    local a = args[i]
    if a:sub(1, 2) == "--" and a ~= "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      if not OPTIONS[name] then return nil, "unknown option '--" .. name .. "' (see orchestra agent --help)" end
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then return nil, "option '--" .. name .. "' needs a value" end
      end
      opts[name] = value
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

--- The agent's spec from AGENT.lua: the file returns the table given to
-- `engine:agent`, or a function(engine, orchestra) returning it (to load
-- the machines its tools use on the engine that runs it).
-- Returns the spec, or nil, an exit status and a message.
function M.load_spec(path, engine)
  local chunk, le = loadfile(path)
  if not chunk then
    return nil, le:find("^cannot open") and cli.EXIT_NOINPUT or cli.EXIT_INVALID, le
  end
  local ok, spec = pcall(chunk)
  if ok and type(spec) == "function" then ok, spec = pcall(spec, engine, orchestra) end
  if not ok then return nil, cli.EXIT_INVALID, path .. " failed: " .. tostring(spec) end
  if type(spec) ~= "table" then
    return nil, cli.EXIT_INVALID, path .. " must return the table given to engine:agent " ..
      "(or a function(engine) returning it), not " .. type(spec)
  end
  return spec
end

--- "steps: N   tokens: input N, output N, cache read N, cache write N"
function M.usage_line(steps, usage)
  usage = usage or {}
  return ("steps: %d   tokens: input %d, output %d, cache read %d, cache write %d"):format(
    steps or 0, usage.input_tokens or 0, usage.output_tokens or 0,
    usage.cache_read_tokens or 0, usage.cache_write_tokens or 0)
end

local function run(args)
  local opts, pos = parse(args)
  if not opts then err("%s", pos) return cli.EXIT_USAGE end
  if #pos ~= 2 then
    err("expected AGENT.lua and a prompt (see orchestra agent --help)")
    return cli.EXIT_USAGE
  end
  local clock = opts.clock or "real"
  if clock ~= "real" and clock ~= "virtual" then
    err("--clock must be real or virtual, not '%s'", clock)
    return cli.EXIT_USAGE
  end
  local engine = orchestra.engine { clock = clock }
  local spec, code, message = M.load_spec(pos[1], engine)
  if not spec then err("%s", message) return code end
  if type(engine.agent) ~= "function" then
    err("this build has no agent loop (engine:agent)")
    return cli.EXIT_SOFTWARE
  end
  local made, agent = pcall(engine.agent, engine, spec)
  if not made then
    local m = type(agent) == "table" and (agent.message or agent.code) or agent
    err("%s: %s", pos[1], tostring(m):gsub("^[^:]*:%d+: ", ""))
    return cli.EXIT_INVALID
  end
  local started, ex = pcall(agent.start, agent, pos[2])
  if not started then
    local m = type(ex) == "table" and (ex.message or ex.code) or ex
    err("%s", tostring(m))
    return cli.EXIT_USAGE
  end
  ex:wait()
  local unwritten = false
  if opts.history then
    local text = ex:history_json({ indent = true }) .. "\n"
    local ok, we
    if opts.history == "-" then
      ok = io.stdout:write(text)
    else
      local f, oe = io.open(opts.history, "wb")
      if f then ok, we = f:write(text); f:close() else we = oe end
    end
    if not ok then
      err("the history: cannot write %s", tostring(we))
      unwritten = true
    end
  end
  local status = ex.status
  if status == "SUCCEEDED" then
    local out = ex.output
    local answer = out.text
    if (answer == nil or answer == "") and out.structured ~= nil then
      answer = orchestra.json.encode(out.structured)
    end
    io.stdout:write(answer or "", "\n\n", M.usage_line(out.steps, out.usage), "\n")
    return unwritten and cli.EXIT_CANTCREAT or cli.EXIT_OK
  end
  if status == "RUNNING" then
    local pending = ex.pending_tools and ex:pending_tools() or {}
    local names = {}
    for _, p in ipairs(pending) do names[#names + 1] = p.name end
    err("the agent is waiting for tools that return control (%s): " ..
        "the command line cannot answer them", table.concat(names, ", "))
    return cli.EXIT_FAILED
  end
  local result = orchestra.object()
  result.Error = ex.error
  result.Cause = ex.cause
  io.stdout:write(orchestra.json.encode(result), "\n")
  local ok, cause = pcall(orchestra.json.decode, ex.cause or "")
  if ok and type(cause) == "table" and cause.steps then
    io.stderr:write(M.usage_line(cause.steps, cause.usage), "\n")
  end
  return unwritten and cli.EXIT_CANTCREAT or cli.EXIT_FAILED
end

cli.command {
  name = "agent",
  summary = "run an agent defined in a Lua file, print its answer and usage",
  usage = "agent AGENT.lua PROMPT [--history OUT.json] [--clock real|virtual]",
  help = [[
AGENT.lua returns the table given to engine:agent (name, model,
instructions, tools, max_steps, ...), or a function(engine, orchestra)
returning it, which may load the state machines its tools use on that
engine. The agent runs on PROMPT; its answer is printed (the structured
output as JSON when the answer has no text), then a blank line and
"steps: N   tokens: input N, output N, cache read N, cache write N" (exit 0).
When the invocation fails, {"Error": ..., "Cause": ...} is printed (exit 1)
and the steps and usage so far go to stderr; Catch-able error names are
Agent.MaxStepsExceeded, Agent.MaxTokensExceeded, Agent.ModelError,
Agent.Timeout, Agent.InvalidOutput and Agent.RepeatedToolCall. --history
writes the invocation's history (model and tool calls as events; "-" for
stdout). The clock is real unless --clock virtual is given (retry back-offs
then take no real time). An agent whose tools return control cannot be
answered from the command line (exit 1).
]],
  run = run,
}

return M
