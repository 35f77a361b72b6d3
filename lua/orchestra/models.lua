--- Model declarations for `engine:agent{model = ...}`.
-- Each function checks its options (an unknown one is an error) and returns
-- a description the engine compiles; nothing connects until an agent runs.
-- Keys and endpoints come as the providers' SDKs take them: `api_key` or
-- `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`; AWS credentials from
-- `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the
-- region from `region` or `AWS_REGION`; the endpoint from `base_url`
-- (OpenAI-compatible, Anthropic) or `endpoint_url` /
-- `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL` (Bedrock).
-- @module orchestra.models

local M = {}

--- Metatable of model declarations (how `engine:agent` recognizes one).
M.model_mt = { __name = "orchestra.Model" }

local function check(what, opts, allowed, required)
  if type(opts) ~= "table" then
    error(("orchestra.models.%s: expected a table of options, got %s"):format(what, type(opts)), 3)
  end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      error(("orchestra.models.%s: unknown option '%s' (options: %s)"):format(
        what, tostring(k), table.concat(names, ", ")), 3)
    end
  end
  for k, v in pairs(opts) do
    if k ~= "turns" and type(v) ~= "string" and not (k == "timeout_ms" and type(v) == "number") then
      error(("orchestra.models.%s: option '%s' must be a %s, not %s"):format(
        what, k, k == "timeout_ms" and "number" or "string", type(v)), 3)
    end
  end
  if required and opts[required] == nil then
    error(("orchestra.models.%s: option '%s' is required"):format(what, required), 3)
  end
end

local function declare(t)
  return setmetatable(t, M.model_mt)
end

--- An OpenAI-compatible Chat Completions endpoint (OpenAI, llama.cpp
-- server, vLLM, Ollama).
-- @tparam table opts `model` (required), `base_url` (default
--   "https://api.openai.com/v1"; a local server: "http://127.0.0.1:8080/v1"),
--   `api_key` (default `OPENAI_API_KEY`, none for local servers),
--   `timeout_ms` (one request, default 120000)
function M.openai(opts)
  check("openai", opts, { model = true, base_url = true, api_key = true, timeout_ms = true }, "model")
  return declare { kind = "openai", model = opts.model, base_url = opts.base_url,
                   api_key = opts.api_key, timeout_ms = opts.timeout_ms }
end

--- Anthropic Messages.
-- @tparam table opts `model` (required), `base_url` (default
--   "https://api.anthropic.com"), `api_key` (default `ANTHROPIC_API_KEY`),
--   `anthropic_version` (default "2023-06-01"), `timeout_ms`
function M.anthropic(opts)
  check("anthropic", opts, { model = true, base_url = true, api_key = true,
                             anthropic_version = true, timeout_ms = true }, "model")
  return declare { kind = "anthropic", model = opts.model, base_url = opts.base_url,
                   api_key = opts.api_key, anthropic_version = opts.anthropic_version,
                   timeout_ms = opts.timeout_ms }
end

--- Amazon Bedrock Converse, signed with SigV4 (credentials from the AWS_*
-- environment variables).
-- @tparam table opts `model_id` (required), `region` (default
--   `AWS_REGION`), `endpoint_url`, `timeout_ms`
function M.bedrock(opts)
  check("bedrock", opts, { model_id = true, region = true, endpoint_url = true, timeout_ms = true }, "model_id")
  return declare { kind = "bedrock", model = opts.model_id, region = opts.region,
                   endpoint_url = opts.endpoint_url, timeout_ms = opts.timeout_ms }
end

--- An offline model: plays back a list of turns (`{turns = {...}}`, consumed
-- in order across the agent's invocations) or calls `fn(messages, tools,
-- ctx)` for each turn. A turn is `{text =, tool_calls = {{id =, name =,
-- arguments =}}, stop_reason =, usage = {input_tokens =, output_tokens =,
-- cache_read_tokens =, cache_write_tokens =}}`. A list that runs out fails
-- the invocation with Agent.ModelError. The table form also takes `fn`
-- (instead of turns) and `model`: the name its calls are recorded,
-- metered and priced under (gen_ai.request.model; default "scripted",
-- which the catalog does not price), e.g. `{model = "claude-3-5-sonnet",
-- turns = ...}`.
function M.scripted(arg)
  if type(arg) == "function" then
    return declare { kind = "scripted", fn = arg }
  end
  if type(arg) ~= "table" then
    error("orchestra.models.scripted: expected {turns = {...}} or a function(messages, tools, ctx)", 2)
  end
  for k in pairs(arg) do
    if k ~= "turns" and k ~= "fn" and k ~= "model" then
      error(("orchestra.models.scripted: unknown option '%s' (options: turns, fn, model)"):format(tostring(k)), 2)
    end
  end
  if arg.model ~= nil and type(arg.model) ~= "string" then
    error("orchestra.models.scripted: option 'model' must be a string (the model it is priced as)", 2)
  end
  if arg.fn ~= nil then
    if type(arg.fn) ~= "function" or arg.turns ~= nil then
      error("orchestra.models.scripted: option 'fn' must be a function(messages, tools, ctx), without turns", 2)
    end
    return declare { kind = "scripted", fn = arg.fn, model = arg.model }
  end
  if type(arg.turns) ~= "table" then
    error("orchestra.models.scripted: option 'turns' must be a list of turns", 2)
  end
  return declare { kind = "scripted", turns = arg.turns, model = arg.model }
end

return M
