-- The model the hybrid examples use: the offline scripted model given by
-- the example (the default, and what the tests run), or a real endpoint
-- when ORCHESTRA_EXAMPLE_PROVIDER names one:
--
--   ORCHESTRA_EXAMPLE_PROVIDER=openai     OPENAI_API_KEY, OPENAI_BASE_URL
--                                         (default https://api.openai.com/v1;
--                                         a llama.cpp/vLLM/Ollama server's
--                                         /v1 URL works too), OPENAI_MODEL
--                                         (default gpt-4o-mini)
--   ORCHESTRA_EXAMPLE_PROVIDER=anthropic  ANTHROPIC_API_KEY, ANTHROPIC_MODEL
--                                         (default claude-3-5-haiku-latest)
--   ORCHESTRA_EXAMPLE_PROVIDER=bedrock    AWS_REGION, AWS_ACCESS_KEY_ID,
--                                         AWS_SECRET_ACCESS_KEY
--                                         (AWS_SESSION_TOKEN), BEDROCK_MODEL_ID
--                                         (default anthropic.claude-3-5-haiku-
--                                         20241022-v1:0)
--
-- A real model words its answers its own way: the printed output then
-- differs from the golden files the tests compare (they run offline).
local orchestra = require "orchestra"

local M = {}

--- The provider chosen by the environment, or nil (offline).
function M.provider()
  local p = os.getenv("ORCHESTRA_EXAMPLE_PROVIDER")
  if p == nil or p == "" or p == "scripted" then return nil end
  return p
end

--- A model: `scripted` (a list of turns or a function, as
-- orchestra.models.scripted takes) unless the environment names a provider.
function M.pick(scripted)
  local p = M.provider()
  if p == nil then return orchestra.models.scripted(scripted) end
  if p == "openai" then
    return orchestra.models.openai {
      base_url = os.getenv("OPENAI_BASE_URL") or "https://api.openai.com/v1",
      model = os.getenv("OPENAI_MODEL") or "gpt-4o-mini",
    }
  elseif p == "anthropic" then
    return orchestra.models.anthropic { model = os.getenv("ANTHROPIC_MODEL") or "claude-3-5-haiku-latest" }
  elseif p == "bedrock" then
    return orchestra.models.bedrock {
      model_id = os.getenv("BEDROCK_MODEL_ID") or "anthropic.claude-3-5-haiku-20241022-v1:0",
    }
  end
  error("ORCHESTRA_EXAMPLE_PROVIDER must be openai, anthropic or bedrock, not " .. p)
end

--- The user's text of the conversation's first message (what a scripted
-- function answers to).
function M.prompt(messages)
  local first = messages[1]
  if first == nil then return "" end
  if type(first.content) == "string" then return first.content end
  for _, part in ipairs(first.content or {}) do
    if part.type == "text" then return part.text end
  end
  return ""
end

--- The results of the tool calls the last message answers, by tool call id.
function M.tool_results(messages)
  local out, last = {}, messages[#messages]
  for _, part in ipairs(last and type(last.content) == "table" and last.content or {}) do
    if part.type == "tool_result" then out[part.tool_use_id] = part.content end
  end
  return out
end

return M
