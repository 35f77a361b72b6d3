-- Hybrid pattern 2: an agent uses a workflow as a tool.
--
-- The support agent has two tools: a Lua function (lookup_order) and a
-- state machine (refund). Calling refund starts an execution of the
-- machine with the call's arguments as input; the agent continues when it
-- ends, with its output as the tool's result. The histories link both
-- ways: the agent's ToolCallSucceeded names the child execution, whose
-- parent_arn is the agent's invocation. Prints the trace (model and tool
-- calls from the history) and the token usage.
--
--   lua5.4 examples/hybrid_agent_uses_workflow.lua      (offline, scripted)
--   ORCHESTRA_EXAMPLE_PROVIDER=anthropic ANTHROPIC_API_KEY=... lua5.4 ...
--                                    (examples/hybrid/models.lua lists all)
local orchestra = require "orchestra"

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local models = dofile(dir .. "/hybrid/models.lua")
local trace = dofile(dir .. "/hybrid/trace.lua")

local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 1 }

engine:handler("arn:aws:lambda:us-east-1:123456789012:function:refund-payment", function(input)
  return { refundId = "rf_" .. input.order_id, amount_cents = input.amount_cents }
end)

local refund = engine:load({
  Comment = "Refund an order: small amounts automatically, large ones never",
  StartAt = "CheckAmount",
  States = {
    CheckAmount = {
      Type = "Choice",
      Choices = { { Variable = "$.amount_cents", NumericGreaterThan = 50000, Next = "TooLarge" } },
      Default = "Pay",
    },
    Pay = {
      Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:refund-payment",
      Retry = { { ErrorEquals = { "States.TaskFailed" }, MaxAttempts = 2 } },
      End = true,
    },
    TooLarge = { Type = "Fail", Error = "RefundTooLarge", Cause = "refunds above 500.00 need a human" },
  },
}, { name = "Refund" })

local agent = engine:agent {
  name = "support",
  model = models.pick { turns = {
    { text = "Let me look the order up.",
      tool_calls = { { id = "c1", name = "lookup_order", arguments = { order_id = "A-1001" } } },
      usage = { input_tokens = 212, output_tokens = 24 } },
    { text = "The order was damaged in transit: refunding it.",
      tool_calls = { { id = "c2", name = "refund", arguments = { order_id = "A-1001", amount_cents = 12500 } } },
      usage = { input_tokens = 268, output_tokens = 31, cache_read_tokens = 200 } },
    { text = "I refunded 125.00 for order A-1001 (refund rf_A-1001).",
      usage = { input_tokens = 321, output_tokens = 18, cache_read_tokens = 256 } },
  } },
  instructions = "You are a support agent. Look orders up before refunding them.",
  tools = {
    lookup_order = {
      description = "Look up an order by id",
      schema = { type = "object", properties = { order_id = { type = "string" } }, required = { "order_id" } },
      handler = function(args)
        return { id = args.order_id, status = "delivered damaged", amount_cents = 12500 }
      end,
    },
    refund = refund,
  },
  max_steps = 6,
}

print("hybrid pattern 2: an agent uses a workflow as a tool")
local ex = agent:start("Order A-1001 arrived broken, I want a refund.", { name = "ticket-1" })
ex:wait()
print("status: " .. ex.status)
print("answer: " .. tostring(ex.output and ex.output.text))
print("trace:")
trace.print(ex)
print(trace.usage(ex.output or {}))

-- the links, both ways
for ev in ex:events() do
  local d = ev.toolCallSucceededEventDetails
  if d and d.childExecutionArn then
    local child = engine:execution(d.childExecutionArn)
    print(("tool %s ran an execution of %s (%s), whose parent is %s"):format(d["gen_ai.tool.name"],
      child.arn:match(":execution:([^:]+):"), child.status,
      child.parent_arn == ex.arn and "this invocation" or tostring(child.parent_arn)))
  end
end
