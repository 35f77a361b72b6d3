-- A workflow calls a model with arn:aws:states:::bedrock:invokeModel, as
-- written for AWS Step Functions (an Anthropic Messages Body, the answer
-- read from $.Body.content[0].text), answered offline by a scripted model
-- that the engine option `models` routes the model id to. Routing the same
-- prefix to orchestra.models.openai{...} or .anthropic{...} sends it to
-- that endpoint instead; without a route it goes to Amazon Bedrock.
--
--   lua5.4 examples/hybrid_invoke_model.lua
local orchestra = require "orchestra"

local MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"

local engine = orchestra.engine {
  clock = "virtual", start_time = 1735689600000, seed = 1,
  models = {
    -- the scripted model sees the Body's conversation as the agents' transcript
    ["anthropic."] = orchestra.models.scripted(function(messages)
      local text = messages[#messages].content[1].text
      local mood = text:find("broken", 1, true) and "negative" or "positive"
      return { text = mood, usage = { input_tokens = 18 + math.floor(#text / 4), output_tokens = 1 } }
    end),
  },
}

local machine = engine:load({
  StartAt = "Classify",
  States = {
    Classify = {
      Type = "Task",
      Resource = "arn:aws:states:::bedrock:invokeModel",
      Parameters = {
        ModelId = MODEL,
        Body = {
          anthropic_version = "bedrock-2023-05-31", max_tokens = 5,
          system = "Answer with one word: positive or negative.",
          messages = { { role = "user", content = { { type = "text", ["text.$"] = "$.review" } } } },
        },
      },
      ResultSelector = { ["mood.$"] = "$.Body.content[0].text", ["tokens.$"] = "$.Body.usage.output_tokens" },
      ResultPath = "$.model",
      Next = "Route",
    },
    Route = {
      Type = "Choice",
      Choices = { { Variable = "$.model.mood", StringEquals = "negative", Next = "Escalate" } },
      Default = "Thank",
    },
    Escalate = { Type = "Pass", Result = "ticket opened", ResultPath = "$.action", End = true },
    Thank = { Type = "Pass", Result = "thank-you note sent", ResultPath = "$.action", End = true },
  },
})

for _, review in ipairs { "Arrived broken, twice.", "Lovely teapot, fast delivery." } do
  local ex = machine:start({ review = review })
  ex:wait()
  print(("%-32s %s: %s -> %s"):format(review, ex.status, ex.output.model.mood, ex.output.action))
end
