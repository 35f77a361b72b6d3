-- Print an agent invocation's trace (its history's model and tool calls)
-- and its token usage: what `make demo` shows of a hybrid run.
local orchestra = require "orchestra"

local M = {}

local function details(ev)
  local name = ev.type:sub(1, 1):lower() .. ev.type:sub(2) .. "EventDetails"
  return ev[name] or {}
end

local function short(v, n)
  v = type(v) == "string" and v or orchestra.json.encode(v)
  v = v:gsub("%s+", " ")
  n = n or 60
  return #v > n and v:sub(1, n - 3) .. "..." or v
end

--- One line per event of the agent's history, indented by `indent`.
function M.print(ex, indent)
  indent = indent or "  "
  for ev in ex:events() do
    local d = details(ev)
    local what = ""
    if ev.type == "AgentInvocationStarted" then
      what = short(d.input or "")
    elseif ev.type == "ModelCallSucceeded" then
      local reasons = d["gen_ai.response.finish_reasons"]
      what = ("%s in=%s out=%s stop=%s"):format(d["gen_ai.request.model"] or "?",
        tostring(d["gen_ai.usage.input_tokens"]), tostring(d["gen_ai.usage.output_tokens"]),
        type(reasons) == "table" and table.concat(reasons, ",") or tostring(reasons))
      if d.rationale then what = what .. " rationale=" .. short(d.rationale, 40) end
    elseif ev.type == "ToolCallScheduled" or ev.type == "ToolCallStarted" then
      what = ("%s %s"):format(d["gen_ai.tool.name"] or "?", ev.type == "ToolCallScheduled" and short(d.arguments or "") or "")
    elseif ev.type == "ToolCallSucceeded" then
      what = ("%s -> %s"):format(d["gen_ai.tool.name"] or "?", short(d.result or ""))
    elseif ev.type == "ToolCallFailed" or ev.type == "ModelCallFailed" or ev.type == "AgentInvocationFailed" then
      what = ("%s %s"):format(d.error or "", short(d.cause or "", 50))
    elseif ev.type == "AgentInvocationSucceeded" then
      what = short(d.output or "", 50)
    end
    print((("%s%2d %-24s %s"):format(indent, ev.id, ev.type, what):gsub("%s+$", "")))
  end
end

--- "steps: N   tokens: input N, output N, cache read N, cache write N"
function M.usage(output)
  local u = output.usage or {}
  return ("steps: %d   tokens: input %d, output %d, cache read %d, cache write %d"):format(
    output.steps or 0, u.input_tokens or 0, u.output_tokens or 0,
    u.cache_read_tokens or 0, u.cache_write_tokens or 0)
end

return M
