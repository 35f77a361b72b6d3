-- Hybrid pattern 1: a workflow calls an agent as one Task.
--
-- The Task's Resource is arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent
-- (AgentId names an agent registered on the engine); a Choice checks that
-- the agent's answer is one the workflow knows, and a Catch turns the
-- agent's own errors (Agent.MaxStepsExceeded, Agent.ModelError, ...) into
-- an escalation instead of a failed execution.
--
--   lua5.4 examples/hybrid_workflow_calls_agent.lua     (offline, scripted)
--   ORCHESTRA_EXAMPLE_PROVIDER=openai OPENAI_API_KEY=... lua5.4 examples/...
--                                    (examples/hybrid/models.lua lists all)
local orchestra = require "orchestra"

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local models = dofile(dir .. "/hybrid/models.lua")

local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 1 }

-- Offline, the model answers by the customer's words; a message that asks
-- for a loop makes it call its tool forever (until max_steps).
local calls = 0
local function scripted(messages)
  local text = models.prompt(messages):lower()
  if text:find("loop", 1, true) then
    calls = calls + 1
    return { text = "Checking the account again.",
             tool_calls = { { id = "c" .. calls, name = "account_status", arguments = { attempt = calls } } },
             usage = { input_tokens = 40, output_tokens = 9 } }
  end
  local word = text:find("money", 1, true) and "refund"
    or text:find("broken", 1, true) and "replace" or "poetry"
  return { text = word, usage = { input_tokens = 35, output_tokens = 1 } }
end

engine:agent {
  name = "triage",
  model = models.pick(scripted),
  instructions = "Classify the customer's message. Answer with exactly one lowercase word: " ..
    "refund, replace or other.",
  tools = {
    account_status = {
      description = "The customer's account status",
      schema = { type = "object", properties = { attempt = { type = "integer" } } },
      handler = function() return { status = "active" } end,
    },
  },
  max_steps = 3,
}

local machine = engine:load({
  Comment = "Support ticket: an agent classifies it, the workflow acts on a known class only",
  StartAt = "Triage",
  States = {
    Triage = {
      Type = "Task",
      Resource = "arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent",
      Parameters = {
        AgentId = "triage", AgentAliasId = "TSTALIASID",
        ["SessionId.$"] = "$.customer", ["InputText.$"] = "$.message",
      },
      ResultSelector = { ["category.$"] = "$.Completion" },
      ResultPath = "$.triage",
      Catch = { { ErrorEquals = { "Agent.MaxStepsExceeded", "Agent.MaxTokensExceeded", "Agent.ModelError",
                                  "Agent.Timeout", "Agent.RepeatedToolCall" },
                  ResultPath = "$.failure", Next = "Escalate" } },
      Next = "Route",
    },
    Route = {
      Type = "Choice",
      Choices = {
        { Variable = "$.triage.category", StringEquals = "refund", Next = "Refund" },
        { Variable = "$.triage.category", StringEquals = "replace", Next = "Replace" },
      },
      Default = "Unrecognized",
    },
    Refund = { Type = "Pass", Result = "refund issued", ResultPath = "$.outcome", End = true },
    Replace = { Type = "Pass", Result = "replacement shipped", ResultPath = "$.outcome", End = true },
    Unrecognized = { Type = "Pass", Parameters = { outcome = "sent to a human: the agent's answer is not a known class",
                                                   ["answer.$"] = "$.triage.category" }, End = true },
    Escalate = { Type = "Pass", Parameters = { outcome = "escalated: the agent failed",
                                               ["error.$"] = "$.failure.Error" }, End = true },
  },
}, { name = "SupportTicket" })

print("hybrid pattern 1: a workflow calls an agent as one Task (invokeAgent)")
for _, ticket in ipairs({
  { customer = "c-1", message = "I want my money back" },
  { customer = "c-2", message = "The lamp arrived broken" },
  { customer = "c-3", message = "Write me a poem" },
  { customer = "c-4", message = "loop until you give up" },
}) do
  local ex = machine:start(ticket)
  ex:wait()
  local out = ex.output or {}
  print(("%-26s -> %s %s%s"):format(ticket.message, ex.status, tostring(out.outcome),
    out.error and (" (" .. out.error .. ")") or out.answer and (" (" .. out.answer .. ")") or ""))
end
