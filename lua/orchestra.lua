--- orchestra: an embeddable orchestration engine.
-- `require "orchestra"` loads this front, which wraps the C module
-- `orchestra.core`.
-- @module orchestra

local core = require "orchestra.core"
local graph = require "orchestra.graph"

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
--   Map's ItemReader and ResultWriter find S3 objects)
-- @treturn Engine
M.engine = core.engine

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

--- Draw a machine as Graphviz DOT or Mermaid text: `machine:graph{format =
-- "dot" | "mermaid", history = ...}`, where `history` (optional) is a history
-- table, its JSON text or an execution. See `orchestra.graph.render`.
debug.getregistry()["orchestra.Machine"].methods.graph = function(machine, opts)
  return graph.render(machine.definition, opts)
end

return M
