-- Hybrid pattern 3: intake, then processing.
--
-- A conversational intake agent turns a customer's free text into a payload
-- that must satisfy a JSON schema (output_schema: the agent's final answer
-- is JSON, checked against it; one repair round trip with the model when it
-- is not); the validated payload then starts a workflow.
--
--   lua5.4 examples/hybrid_intake_then_workflow.lua     (offline, scripted)
--   ORCHESTRA_EXAMPLE_PROVIDER=bedrock AWS_REGION=... lua5.4 ...
--                                    (examples/hybrid/models.lua lists all)
local orchestra = require "orchestra"

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local models = dofile(dir .. "/hybrid/models.lua")
local trace = dofile(dir .. "/hybrid/trace.lua")

local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 1 }

local claim_schema = {
  type = "object",
  properties = {
    order_id = { type = "string", minLength = 1 },
    reason = { type = "string", enum = { "damaged", "late", "wrong_item" } },
    amount_cents = { type = "integer", minimum = 1 },
  },
  required = { "order_id", "reason", "amount_cents" },
  additionalProperties = false,
}

local intake = engine:agent {
  name = "intake",
  -- offline: the first answer breaks the schema (a number for order_id),
  -- the agent sends the validation errors back, the second one fits
  model = models.pick { turns = {
    { text = '{"order_id": 1001, "reason": "damaged", "amount_cents": 12500}',
      usage = { input_tokens = 180, output_tokens = 22 } },
    { text = '{"order_id": "A-1001", "reason": "damaged", "amount_cents": 12500}',
      usage = { input_tokens = 260, output_tokens = 23 } },
  } },
  instructions = "Extract the claim from the customer's message as JSON: order_id (string), " ..
    "reason (damaged, late or wrong_item) and amount_cents (integer). Answer with the JSON only.",
  output_schema = claim_schema,
  max_steps = 4,
}

engine:handler("arn:aws:lambda:us-east-1:123456789012:function:open-claim", function(input)
  return { claimId = "cl_" .. input.order_id, queue = input.reason == "damaged" and "carrier" or "warehouse" }
end)

local claims = engine:load({
  StartAt = "OpenClaim",
  States = {
    OpenClaim = { Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:open-claim",
                  ResultPath = "$.claim", Next = "Done" },
    Done = { Type = "Succeed" },
  },
}, { name = "Claims" })

print("hybrid pattern 3: an intake agent's validated payload starts a workflow")
local ex = intake:start("Hi, my order A-1001 came in smashed, it was 125 dollars.")
ex:wait()
print("intake: " .. ex.status .. ", " .. trace.usage(ex.output or {}))
trace.print(ex)
if ex.status ~= "SUCCEEDED" then
  print(("intake failed: %s %s"):format(ex.error, ex.cause))
  os.exit(1)
end
print("payload: " .. orchestra.json.encode(ex.output.structured))
local run = claims:start(ex.output.structured)
run:wait()
print("workflow: " .. run.status .. " " .. run:output_json())
