--- orchestra: an embeddable orchestration engine.
-- `require "orchestra"` loads this front, which wraps the C module
-- `orchestra.core`.
-- @module orchestra

-- The Lua running this file, as the C module's built_for names it.
local function this_lua()
  if rawget(_G, "jit") then return "LuaJIT" end
  return _VERSION
end

-- A module built for another Lua fails in dlopen (a symbol that Lua lacks)
-- or in luaL_checkversion: say so in a sentence, with the fix.
local function load_core()
  local ok, core = pcall(require, "orchestra.core")
  if ok then return core end
  local msg = tostring(core)
  if msg:find("undefined symbol: luaL?_") or msg:find("version mismatch")
    or msg:find("multiple Lua VMs") then
    local v = this_lua() == "LuaJIT" and "5.1" or _VERSION:match("%d+%.%d+")
    error("orchestra: the C module orchestra.core that " .. this_lua()
      .. " found was built for another Lua (" .. msg:gsub("\n%s*", " ")
      .. "). Install orchestra for " .. this_lua() .. " (luarocks --lua-version "
      .. v .. " make rockspec/orchestra-scm-1.rockspec"
      .. (this_lua() == "LuaJIT" and ", with LUAROCKS_CONFIG=rockspec/luajit-config.lua" or "")
      .. ") or run it with the Lua it was built for.", 0)
  end
  error(core, 0)
end

local core = load_core()
local graph = require "orchestra.graph"
local models = require "orchestra.models"

local M = {}

--- The library version ("0.1.0").
M.VERSION = core.version

--- The Lua the C module was built for ("Lua 5.4", "Lua 5.1", "LuaJIT").
M.built_for = core.built_for

--- JSON null: a light userdata equal to `cjson.null`.
M.null = core.null

--- Metatable of tables decoded from JSON arrays; tables carrying it always
-- encode as JSON arrays, even when empty.
M.array_mt = core.array_mt

--- Metatable that makes a table encode as a JSON object, even when empty.
M.object_mt = core.object_mt

--- Mark `t` (or a new table) as a JSON array and return it.
-- @tparam[opt] table t
-- @treturn table t
M.array = core.array

--- Mark `t` (or a new table) as a JSON object and return it.
-- @tparam[opt] table t
-- @treturn table t
M.object = core.object

--- Create an engine: it holds machines and executions and runs them when
-- the host calls `engine:step()` (or `execution:wait()`, `engine:run()`).
-- @tparam[opt] table opts `clock` ("real" or "virtual"), `start_time`
--   (virtual clock start, Unix ms), `max_payload_bytes` (default 262144,
--   0 = unlimited), `max_history_events` (default 25000, 0 = unlimited),
--   `history` ("full", "none", "last:N"), `seed` (MathRandom/UUID),
--   `region`, `account` (for ARNs), `max_transitions_per_step` (work
--   units per `engine:step()`, default 300: a transition or timer is 1, a
--   task handed to a handler 10), `map_concurrency` (an inline Map's cap
--   when MaxConcurrency is 0, default 40), `data_dir` and `resolver`
--   (`function(bucket, key, mode)` returning a path: where a distributed
--   Map's ItemReader and ResultWriter find S3 objects), `max_memory`,
--   `meter` (count billable units: `ex.cost`), `budget_usd` (each
--   execution's and invocation's budget in dollars; see README "Budgets"),
--   `catalog` (the prices budgets use; default `orchestra.cost.catalog()`),
--   `choice_hook` (`function(state, input, nexts)` -> the branch a Choice
--   state takes, or nil for its rules), `bedrock` (where
--   bedrock:invokeModel goes: `region`, `endpoint_url`, credentials,
--   `timeout_seconds`), `models` (`{[model id or prefix] =
--   orchestra.models.*}`: bedrock:invokeModel tasks whose ModelId starts
--   with a key, the longest first, are answered by that model; see the
--   README, "Calling a model from a workflow")
-- @treturn Engine
-- A task handler playing a scripted model: `fn(messages, tools, ctx)`, or
-- the next of its list of turns; `what` names it when the list runs out.
local function scripted_handler(model, error_name, what)
  local fn = model.fn
  if fn then
    return function(input, ctx) return fn(input.messages, input.tools, ctx) end
  end
  local turns, i = model.turns, 0
  return function()
    i = i + 1
    local turn = turns[i]
    if turn == nil then
      error({ Error = error_name, Cause = ("%s has no turn %d (it has %d)"):format(what, i, #turns) })
    end
    return turn
  end
end

-- The engine option `models`: bedrock:invokeModel answered by the engine's
-- own model declarations, by longest model id prefix.
local function route_models(engine, routes)
  if type(routes) ~= "table" then
    error(("orchestra.engine: option 'models' must be a table {[model id or prefix] = orchestra.models.*}, not %s")
      :format(type(routes)), 0)
  end
  local prefixes = {}
  for prefix, model in pairs(routes) do
    if type(prefix) ~= "string" or prefix == "" then
      error(("orchestra.engine: option 'models': keys are model ids or prefixes (non-empty strings), not %s")
        :format(type(prefix) == "string" and "an empty string" or type(prefix)), 0)
    end
    if getmetatable(model) ~= models.model_mt then
      error(("orchestra.engine: models['%s'] must be an orchestra.models.* value, not %s"):format(prefix, type(model)), 0)
    end
    prefixes[#prefixes + 1] = prefix
  end
  table.sort(prefixes)
  for _, prefix in ipairs(prefixes) do
    local model = routes[prefix]
    local resource = engine:_route_model(prefix, {
      kind = model.kind, model = model.model, base_url = model.base_url, api_key = model.api_key,
      anthropic_version = model.anthropic_version, region = model.region,
      endpoint_url = model.endpoint_url, timeout_ms = model.timeout_ms })
    if resource then
      local play = scripted_handler(model, "States.TaskFailed",
        ("bedrock:invokeModel: the scripted model routed for '%s'"):format(prefix))
      -- fn(messages, tools, ctx): the system prompt and max_tokens in ctx
      engine:handler(resource, function(input, ctx)
        ctx.instructions, ctx.max_tokens = input.instructions, input.max_tokens
        return play(input, ctx)
      end)
    end
  end
end

function M.engine(opts)
  local engine = core.engine(opts)
  if type(opts) == "table" and opts.models ~= nil then
    local ok, err = pcall(route_models, engine, opts.models)
    if not ok then
      engine:close()
      error(err, 0)
    end
  end
  return engine
end

--- JSONata expressions: `jsonata.compile(text [, {aws=true}])` returns an
-- expression with `:evaluate(input [, bindings [, limits]])`;
-- `jsonata.evaluate(text, input [, bindings [, opts]])` compiles and runs
-- once. Undefined results are `nil`; errors are raised as tables
-- `{code=, position=, token=, message=}` (codes as jsonata-js names them).
M.jsonata = core.jsonata

--- Seconds on a monotonic clock (never jumps; unrelated to an engine's
-- clock): for timing steps and frames.
-- @treturn number
M.monotonic = core.monotonic

--- Returned by a task handler to leave its task pending: the host answers
-- it later with `engine:task_success(token, output)`,
-- `engine:task_failure(token, error, cause)` (and keeps it alive with
-- `engine:task_heartbeat(token)`); the token is `context.Task.Token`.
-- Handlers of `...waitForTaskToken` resources are always answered so.
M.pending = core.pending

--- Validate a definition (JSON text or a table) without running it.
-- @return true, or false and a list of `{pointer = ..., message = ...}`
M.validate = core.validate

--- The JSON bridge.
-- @section json
M.json = {
  --- Decode JSON text into Lua values. Arrays come back marked with
  -- `orchestra.array_mt`, `null` as `orchestra.null`, integers as integers
  -- (Lua 5.3+; exact to 2^53 on 5.1 and LuaJIT).
  -- Raises an error naming the byte offset, line and column of bad input.
  -- @tparam string text
  -- @tparam[opt] table opts `max_depth` (default 512, at most 1000),
  --   `max_bytes` (default 64 MiB)
  decode = core.json_decode,

  --- Encode a Lua value as JSON text. Marked tables keep their kind;
  -- tables with keys 1..n are arrays, other tables objects with sorted keys.
  -- Raises an error naming the JSON pointer of a value that JSON cannot
  -- hold (NaN, a function, a cycle, a non-UTF-8 string, a hole).
  -- @param value
  -- @tparam[opt] table opts `indent` (boolean), `max_depth`
  encode = core.json_encode,

  null = core.null,
}

--- Model declarations for agents: `orchestra.models.openai{...}`,
-- `.anthropic{...}`, `.bedrock{...}`, `.scripted{turns = ...}` or
-- `.scripted(function(messages, tools, ctx) ... end)`. See
-- `orchestra.models`.
M.models = models

-- {====== agents

local registry = debug.getregistry()
local engine_methods = registry["orchestra.Engine"].__index
local machine_mt = registry["orchestra.Machine"]
local agent_mt = registry["orchestra.Agent"]
local error_mt = registry["orchestra.Error"]

local AGENT_OPTIONS = {
  name = "string", model = "table", instructions = "string", tools = "table",
  max_steps = "number", max_tokens = "number", temperature = "number",
  output_schema = "table", timeout_seconds = "number",
  max_repeated_calls = "number", retry = "table", budget_usd = "number",
}
local TOOL_OPTIONS = { description = "string", schema = "table", handler = "function" }

local function option_names(t)
  local names = {}
  for k in pairs(t) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

--- Compile an agent: a model decides at run time which tools to call.
-- Each invocation (`agent:start`, `agent:invoke`) is an execution of this
-- engine, driven by `engine:step()` like a machine's.
-- @tparam table opts `model` (an `orchestra.models.*` value, required),
--   `name` (unique per engine; default "Agent", "Agent-2", ...),
--   `instructions` (the system prompt), `tools` (name -> `{description =,
--   schema =, handler = function(args, ctx)}`, a machine, or another
--   agent; a tool without handler returns control to the caller),
--   `max_steps` (model calls per invocation, default 10), `max_tokens`
--   (output tokens per invocation), `temperature`, `output_schema` (the
--   answer must be JSON matching it: `ex.output.structured`),
--   `timeout_seconds` (the whole invocation), `max_repeated_calls`
--   (identical tool calls in a row, default 3), `retry = {max_attempts =
--   3, base_ms = 1000, max_ms = 60000}` (model calls over HTTP),
--   `budget_usd` (each invocation's budget in dollars: before each model
--   call the invocation fails with Cost.BudgetExceeded when the call could
--   take it over; see README "Budgets")
-- @treturn Agent
function engine_methods.agent(engine, opts)
  if type(opts) ~= "table" then
    error("engine:agent: expected a table of options", 2)
  end
  for k, v in pairs(opts) do
    local want = AGENT_OPTIONS[k]
    if not want then
      error(("engine:agent: unknown option '%s' (options: %s)"):format(
        tostring(k), option_names(AGENT_OPTIONS)), 2)
    end
    if type(v) ~= want then
      error(("engine:agent: option '%s' must be a %s, not %s"):format(k, want, type(v)), 2)
    end
  end
  local model = opts.model
  if getmetatable(model) ~= models.model_mt then
    error("engine:agent: option 'model' is required: an orchestra.models.* value", 2)
  end
  if opts.retry then
    for k in pairs(opts.retry) do
      if k ~= "max_attempts" and k ~= "base_ms" and k ~= "max_ms" then
        error(("engine:agent: unknown retry option '%s' (max_attempts, base_ms, max_ms)"):format(tostring(k)), 2)
      end
    end
  end
  local spec = {
    name = opts.name, instructions = opts.instructions, max_steps = opts.max_steps,
    max_tokens = opts.max_tokens, temperature = opts.temperature,
    output_schema = opts.output_schema, timeout_seconds = opts.timeout_seconds,
    max_repeated_calls = opts.max_repeated_calls, retry = opts.retry,
    budget_usd = opts.budget_usd,
    model = { kind = model.kind, model = model.model, base_url = model.base_url,
              api_key = model.api_key, anthropic_version = model.anthropic_version,
              region = model.region, endpoint_url = model.endpoint_url,
              timeout_ms = model.timeout_ms, with_messages = model.fn ~= nil },
    tools = {},
  }
  local names = {}
  for name in pairs(opts.tools or {}) do
    if type(name) ~= "string" then
      error(("engine:agent: tool names must be strings, not %s"):format(type(name)), 2)
    end
    names[#names + 1] = name
  end
  table.sort(names)
  local handlers = {}
  for _, name in ipairs(names) do
    local t = opts.tools[name]
    local mt = getmetatable(t)
    if mt == machine_mt then
      spec.tools[#spec.tools + 1] = {
        name = name, kind = "machine", target = t,
        description = ("Runs the state machine '%s' with the arguments as its input and returns its output."):format(t.name),
        schema = { type = "object" },
      }
    elseif mt == agent_mt then
      spec.tools[#spec.tools + 1] = {
        name = name, kind = "agent", target = t,
        description = ("Asks the agent '%s': give it a prompt; returns its answer."):format(t.name),
        schema = { type = "object", properties = { prompt = { type = "string" } }, required = M.array { "prompt" } },
      }
    elseif type(t) == "table" then
      for k, v in pairs(t) do
        local want = TOOL_OPTIONS[k]
        if not want then
          error(("engine:agent: tool '%s': unknown option '%s' (options: %s)"):format(
            name, tostring(k), option_names(TOOL_OPTIONS)), 2)
        end
        if type(v) ~= want then
          error(("engine:agent: tool '%s': option '%s' must be a %s, not %s"):format(name, k, want, type(v)), 2)
        end
      end
      spec.tools[#spec.tools + 1] = {
        name = name, kind = t.handler and "host" or "return",
        description = t.description, schema = t.schema,
      }
      handlers[name] = t.handler
    else
      error(("engine:agent: tool '%s' must be a table {description =, schema =, handler =}, a machine or an agent, not %s"):format(name, type(t)), 2)
    end
  end
  local ok, agent = pcall(engine._agent, engine, spec)
  if not ok then error(agent, 2) end
  local aname = agent.name
  for name, handler in pairs(handlers) do
    engine:handler("orchestra:tool:" .. aname .. ":" .. name, function(args, ctx)
      local result = handler(args, ctx)
      if ctx.session ~= nil then engine:_agent_attrs(ctx.Task.Token, ctx.session) end
      return result
    end)
  end
  if model.kind == "scripted" then
    engine:handler("orchestra:model:" .. aname, scripted_handler(model, "Agent.ModelError", "the scripted model"))
  end
  return agent
end

--- Start an invocation and wait for it: returns `ex.output` (`text`,
-- `structured`, `steps`, `usage`, `transcript`); raises `{code = error
-- name, message = cause}` when it fails, or `{code = "Agent.PendingTools",
-- execution = ex}` when it waits for tools without a handler.
function agent_mt.methods.invoke(agent, prompt, opts)
  local ex = agent:start(prompt, opts)
  local status, why = ex:wait()
  if status == "SUCCEEDED" then
    local out = ex.output
    ex:close()
    return out
  end
  if status == "RUNNING" then
    error(setmetatable({ code = "Agent.PendingTools", message = why, execution = ex }, error_mt), 2)
  end
  local e = setmetatable({ code = ex.error or status, message = ex.cause }, error_mt)
  ex:close()
  error(e, 2)
end

-- }======
--- The cost model: `orchestra.cost.scenario{...}`, `.compare`, `.sweep`,
-- `.sensitivity`, `.of(execution)`, `.simulate{...}`, `.catalog{...}`
-- (see lua/orchestra/cost.lua).
M.cost = require "orchestra.cost"

--- Draw a machine as Graphviz DOT or Mermaid text: `machine:graph{format =
-- "dot" | "mermaid", history = ...}`, where `history` (optional) is a history
-- table, its JSON text or an execution. See `orchestra.graph.render`.
debug.getregistry()["orchestra.Machine"].methods.graph = function(machine, opts)
  return graph.render(machine.definition, opts)
end

return M
