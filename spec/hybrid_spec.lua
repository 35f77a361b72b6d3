-- The three hybrid patterns end to end (issue 10):
--  1. a workflow calls a model or an agent as one Task: bedrock:invokeModel
--     (through the node model server) and bedrockagentruntime:invokeAgent,
--     a Choice validating the answer, a Catch on the agent's named errors;
--  2. an agent uses a workflow as a tool, histories linked both ways;
--  3. an intake agent's structured output starts a workflow.
local orchestra = require "orchestra"
local MS = require "spec.support.model_server"

local INVOKE_AGENT = "arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent"

local function engine()
  return orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 7 }
end

-- engine:execution(arn) does not find agent invocations yet (the ARN
-- lookup scans state machines only): look through engine:executions().
local function find_execution(E, arn)
  for _, x in ipairs(E:executions()) do
    if x.arn == arn then return x end
  end
  return nil
end

local function events_of(ex, type)
  local out = {}
  for _, e in ipairs(ex:history().events) do
    if e.type == type then out[#out + 1] = e end
  end
  return out
end

-- A workflow: Ask (invokeAgent) -> Check (Choice on the answer) -> Known |
-- Unknown; the agent's errors caught into Failed.
local function ticket_machine(E, catch_errors, extra_params)
  local params = { AgentId = "triage", AgentAliasId = "TSTALIASID", ["InputText.$"] = "$.text",
                   ["SessionId.$"] = "$.session" }
  for k, v in pairs(extra_params or {}) do params[k] = v end
  return E:load({
    StartAt = "Ask",
    States = {
      Ask = { Type = "Task", Resource = INVOKE_AGENT, Parameters = params, ResultPath = "$.agent",
              Catch = { { ErrorEquals = catch_errors or { "States.ALL" }, ResultPath = "$.error", Next = "Failed" } },
              Next = "Check" },
      Check = { Type = "Choice",
                Choices = { { Variable = "$.agent.Completion", StringMatches = "APPROVE*", Next = "Known" } },
                Default = "Unknown" },
      Known = { Type = "Pass", Result = "approved", ResultPath = "$.route", End = true },
      Unknown = { Type = "Pass", Result = "unknown", ResultPath = "$.route", End = true },
      Failed = { Type = "Pass", Result = "failed", ResultPath = "$.route", End = true },
    },
  })
end

describe("pattern 1: invokeAgent", function()
  it("runs the named agent as one Task: {Completion, SessionId, ExecutionArn}, then the Choice", function()
    local E = engine()
    E:agent { name = "triage", model = orchestra.models.scripted(function(messages)
      local prompt = messages[#messages].content[1].text
      return { text = prompt:find("refund") and "APPROVE: refund" or "no idea",
               usage = { input_tokens = 11, output_tokens = 3 } }
    end) }
    local m = ticket_machine(E)
    local ex = m:start({ text = "please refund me", session = "s-1" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("approved", ex.output.route)
    assert.are.equal("APPROVE: refund", ex.output.agent.Completion)
    assert.are.equal("s-1", ex.output.agent.SessionId)
    -- linked both ways
    local child = find_execution(E, ex.output.agent.ExecutionArn)
    assert.are.equal(ex.arn, child.parent_arn)
    assert.are.equal("SUCCEEDED", child.status)
    assert.are.equal("AgentInvocationStarted", child:history().events[1].type)
    local sched = events_of(ex, "TaskScheduled")[1].taskScheduledEventDetails
    assert.are.equal("aws-sdk:bedrockagentruntime", sched.resourceType)
    assert.are.equal("invokeAgent", sched.resource)
    -- an answer the workflow does not know takes the Choice's Default
    local ex2 = m:start({ text = "what is this", session = "s-2" })
    ex2:wait()
    assert.are.equal("unknown", ex2.output.route)
    E:close()
  end)

  it("keeps the session across tasks with the same SessionId, and EndSession forgets it", function()
    local E = engine()
    local agent = E:agent { name = "triage", model = orchestra.models.scripted(function(messages)
      return { text = "APPROVE after " .. #messages .. " messages" }
    end) }
    local m = ticket_machine(E)
    local a = m:start({ text = "first", session = "s" })
    a:wait()
    assert.are.equal("APPROVE after 1 messages", a.output.agent.Completion)
    local b = m:start({ text = "second", session = "s" })
    b:wait()
    assert.are.equal("APPROVE after 3 messages", b.output.agent.Completion)
    assert.is_not_nil(agent:session("s"))
    local ending = ticket_machine(E, nil, { EndSession = true })
    local c = ending:start({ text = "third", session = "s" })
    c:wait()
    assert.are.equal("APPROVE after 5 messages", c.output.agent.Completion)
    assert.is_nil(agent:session("s"))
    E:close()
  end)

  local cases = {
    { error = "Agent.MaxStepsExceeded", spec = function(n)
        return { max_steps = 2, tools = { t = { description = "a tool", schema = { type = "object" },
                                                handler = function() return "ok" end } },
                 model = orchestra.models.scripted(function()
                   n = n + 1
                   return { tool_calls = { { id = "c" .. n, name = "t", arguments = { n = n } } } }
                 end) }
      end },
    { error = "Agent.ModelError", spec = function()
        return { model = orchestra.models.scripted { turns = {} } }
      end },
    { error = "Agent.RepeatedToolCall", spec = function(n)
        return { max_repeated_calls = 2, tools = { t = { description = "a tool", schema = { type = "object" },
                                                         handler = function() return "ok" end } },
                 model = orchestra.models.scripted(function()
                   n = n + 1
                   return { tool_calls = { { id = "c" .. n, name = "t", arguments = { same = true } } } }
                 end) }
      end },
    { error = "Agent.InvalidOutput", spec = function()
        return { output_schema = { type = "object", required = { "ok" } },
                 model = orchestra.models.scripted(function() return { text = "not json" } end) }
      end },
    { error = "Agent.MaxTokensExceeded", spec = function()
        return { max_tokens = 10, model = orchestra.models.scripted(function()
          return { text = "long", stop_reason = "max_tokens", usage = { input_tokens = 5, output_tokens = 10 } }
        end) }
      end },
  }
  for _, case in ipairs(cases) do
    it("fails the Task with " .. case.error .. ", which a Catch matches by name", function()
      local E = engine()
      local spec = case.spec(0)
      spec.name = "triage"
      E:agent(spec)
      local m = ticket_machine(E, { case.error })
      local ex = m:start({ text = "go", session = "s" })
      ex:wait()
      assert.are.equal("SUCCEEDED", ex.status, tostring(ex.error) .. " " .. tostring(ex.cause))
      assert.are.equal("failed", ex.output.route)
      assert.are.equal(case.error, ex.output.error.Error)
      local cause = orchestra.json.decode(ex.output.error.Cause)
      assert.are.equal("number", type(cause.steps))
      assert.are.equal("string", type(cause.message))
      -- uncaught, it fails the workflow with the agent's error and cause
      local bare = ticket_machine(E, { "NoSuchError" })
      local ex2 = bare:start({ text = "go", session = "s2" })
      ex2:wait()
      assert.are.equal("FAILED", ex2.status)
      assert.are.equal(case.error, ex2.error)
      E:close()
    end)
  end

  it("names a missing agent and bad parameters as the SDK integration would", function()
    local E = engine()
    local m = ticket_machine(E)
    local ex = m:start({ text = "hi", session = "s" })
    ex:wait()
    assert.are.equal("BedrockAgentRuntime.ResourceNotFoundException", ex.output.error.Error)
    assert.matches("no agent named 'triage' is registered on the engine", ex.output.error.Cause, 1, true)
    E:agent { name = "triage", model = orchestra.models.scripted { turns = { { text = "x" } } } }
    ex = m:start({ text = 42, session = "s" })
    ex:wait()
    assert.are.equal("BedrockAgentRuntime.ValidationException", ex.output.error.Error)
    assert.matches("InputText must be a string", ex.output.error.Cause, 1, true)
    E:close()
  end)

  it("stops the agent's invocation when the workflow stops", function()
    local E = engine()
    E:agent { name = "triage",
              tools = { approve = { description = "ask a human", schema = { type = "object" } } },
              model = orchestra.models.scripted { turns = {
                { tool_calls = { { id = "c1", name = "approve", arguments = {} } } } } } }
    local m = ticket_machine(E)
    local ex = m:start({ text = "hi", session = "s" })
    ex:wait() -- the agent waits for the tool that returns control
    assert.are.equal("RUNNING", ex.status)
    local child
    for _, x in ipairs(E:executions { status = "RUNNING" }) do
      if x.parent_arn == ex.arn then child = x end
    end
    assert.is_not_nil(child)
    assert.are.equal("RUNNING", child.status)
    ex:stop()
    E:step()
    assert.are.equal("ABORTED", child.status)
    E:close()
  end)
end)

describe("pattern 1 over HTTP (the node model server)", function()
  if not MS.available() then
    it("needs node and spec/support/node_modules (make node-deps)", function()
      error("the model server cannot run here: run `make node-deps`")
    end)
    return
  end
  local server
  local AWS = { access_key_id = "AKIDHYBRID", secret_access_key = "hybrid-secret-key-0123456789", region = "eu-west-1" }
  setup(function() server = MS.start() end)
  teardown(function() if server then server:stop() end end)
  before_each(function() server:reset({ aws = AWS, api_key = "sk-hybrid-test" }) end)

  local function http_engine()
    return orchestra.engine { clock = "virtual", seed = 3, bedrock = {
      endpoint_url = server.url, region = AWS.region, access_key_id = AWS.access_key_id,
      secret_access_key = AWS.secret_access_key } }
  end

  -- classify with invokeModel, validate with a Choice, then ask the agent
  local function flow(E)
    return E:load({
      StartAt = "Classify",
      States = {
        Classify = {
          Type = "Task", Resource = "arn:aws:states:::bedrock:invokeModel",
          Parameters = { ModelId = "anthropic.claude-3-5-haiku-20241022-v1:0",
                         Body = { anthropic_version = "bedrock-2023-05-31", max_tokens = 20,
                                  messages = { { role = "user", ["content.$"] = "$.text" } } } },
          ResultSelector = { ["label.$"] = "$.Body.content[0].text" },
          ResultPath = "$.classified",
          Retry = { { ErrorEquals = { "Bedrock.ServiceUnavailableException" }, MaxAttempts = 1 } },
          Catch = { { ErrorEquals = { "Bedrock.ThrottlingException" }, ResultPath = "$.error", Next = "Later" } },
          Next = "Valid",
        },
        Valid = { Type = "Choice",
                  Choices = { { Variable = "$.classified.label", StringEquals = "support", Next = "Agent" } },
                  Default = "Ignore" },
        Agent = { Type = "Task", Resource = INVOKE_AGENT,
                  Parameters = { AgentId = "support", ["InputText.$"] = "$.text" },
                  ResultSelector = { ["answer.$"] = "$.Completion" }, End = true },
        Ignore = { Type = "Pass", Result = { ignored = true }, End = true },
        Later = { Type = "Pass", Parameters = { ["retry_later.$"] = "$.error.Error" }, End = true },
      },
    })
  end

  it("a model and an agent, both over HTTP, in one workflow", function()
    local E = http_engine()
    E:agent { name = "support", model = orchestra.models.openai {
      base_url = server.url .. "/v1", model = "gpt-test", api_key = "sk-hybrid-test" } }
    server:enqueue({ { turn = { text = "support" } },
                     { turn = { text = "Your parcel ships tomorrow.", usage = { input = 30, output = 7 } } } })
    local ex = flow(E):start({ text = "where is my parcel?" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ answer = "Your parcel ships tomorrow." }, ex.output)
    local reqs = server:requests()
    assert.are.equal(2, #reqs)
    assert.are.equal("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", reqs[1].path)
    assert.are.equal("ok", reqs[1].signature)
    assert.are.equal("/v1/chat/completions", reqs[2].path)
    assert.are.equal("where is my parcel?", reqs[2].body.messages[#reqs[2].body.messages].content)
    E:close()
  end)

  it("the Choice rejects a label the workflow does not know", function()
    local E = http_engine()
    server:enqueue({ turn = { text = "spam" } })
    local ex = flow(E):start({ text = "buy now" })
    ex:wait()
    assert.are.same({ ignored = true }, ex.output)
    E:close()
  end)

  it("Retry and Catch match Bedrock's named errors", function()
    local E = http_engine()
    server:enqueue({ { fault = "status", status = 503, message = "busy" },
                     { fault = "status", status = 429, message = "slow down" } })
    local ex = flow(E):start({ text = "x" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ retry_later = "Bedrock.ThrottlingException" }, ex.output)
    assert.are.equal(2, #events_of(ex, "TaskScheduled"))
    E:close()
  end)
end)

describe("pattern 2: an agent uses a workflow as a tool", function()
  local function setup_engine(amount)
    local E = engine()
    E:handler("arn:aws:lambda:us-east-1:123456789012:function:pay", function(input)
      return { paid = input.amount }
    end)
    local refund = E:load({
      StartAt = "Check",
      States = {
        Check = { Type = "Choice", Choices = { { Variable = "$.amount", NumericGreaterThan = 100, Next = "TooBig" } },
                  Default = "Pay" },
        Pay = { Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:pay", End = true },
        TooBig = { Type = "Fail", Error = "RefundTooLarge", Cause = "needs a human" },
      },
    }, { name = "Refund" })
    local seen = {}
    local agent = E:agent { name = "support", tools = { refund = refund },
      model = orchestra.models.scripted(function(messages)
        local last = messages[#messages]
        for _, p in ipairs(last.content) do
          if p.type == "tool_result" then
            seen[#seen + 1] = p
            return { text = p.is_error and "I could not refund it." or "Refunded " .. p.content.paid .. "." }
          end
        end
        return { tool_calls = { { id = "r1", name = "refund", arguments = { amount = amount } } } }
      end) }
    return E, agent, seen
  end

  it("runs the machine as the call, continues with its output, and links the histories", function()
    local E, agent, seen = setup_engine(40)
    local ex = agent:start("refund 40")
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("Refunded 40.", ex.output.text)
    assert.are.same({ paid = 40 }, seen[1].content)
    local done = events_of(ex, "ToolCallSucceeded")[1].toolCallSucceededEventDetails
    local child = E:execution(done.childExecutionArn)
    assert.are.equal(ex.arn, child.parent_arn)
    assert.matches(":execution:Refund:", child.arn, 1, true)
    assert.are.equal("SUCCEEDED", child.status)
    assert.are.same({ paid = 40 }, child.output)
    E:close()
  end)

  it("a failed workflow is an error result the model sees, not a failed agent", function()
    local E, agent, seen = setup_engine(500)
    local ex = agent:start("refund 500")
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("I could not refund it.", ex.output.text)
    assert.is_true(seen[1].is_error)
    local failed = events_of(ex, "ToolCallFailed")[1].toolCallFailedEventDetails
    local child = E:execution(failed.childExecutionArn)
    assert.are.equal("FAILED", child.status)
    assert.are.equal("RefundTooLarge", child.error)
    assert.are.equal(ex.arn, child.parent_arn)
    E:close()
  end)
end)

describe("pattern 3: intake, then processing", function()
  it("a payload that satisfies the schema (after one repair) starts the workflow", function()
    local E = engine()
    local schema = { type = "object", additionalProperties = false, required = { "order_id", "reason" },
                     properties = { order_id = { type = "string" },
                                    reason = { type = "string", enum = { "damaged", "late" } } } }
    local intake = E:agent { name = "intake", output_schema = schema,
      model = orchestra.models.scripted { turns = {
        { text = '{"order_id": 7, "reason": "damaged"}' },
        { text = '{"order_id": "A-7", "reason": "damaged"}' } } } }
    E:handler("arn:aws:lambda:us-east-1:123456789012:function:claim", function(input)
      return { claim = "cl-" .. input.order_id }
    end)
    local claims = E:load({ StartAt = "Open", States = { Open = { Type = "Task",
      Resource = "arn:aws:lambda:us-east-1:123456789012:function:claim", ResultPath = "$.opened", End = true } } })
    local ex = intake:start("my order A-7 arrived smashed")
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ order_id = "A-7", reason = "damaged" }, ex.output.structured)
    assert.are.equal(2, #events_of(ex, "ModelCallSucceeded"))
    local run = claims:start(ex.output.structured)
    run:wait()
    assert.are.same({ order_id = "A-7", reason = "damaged", opened = { claim = "cl-A-7" } }, run.output)
  end)

  it("a payload that never satisfies it is Agent.InvalidOutput, and no workflow starts", function()
    local E = engine()
    local intake = E:agent { name = "intake", output_schema = { type = "object", required = { "order_id" } },
      model = orchestra.models.scripted(function() return { text = '{"other": 1}' } end) }
    local ok, e = pcall(intake.invoke, intake, "hello")
    assert.is_false(ok)
    assert.are.equal("Agent.InvalidOutput", e.code)
    assert.matches("order_id", e.message, 1, true)
  end)
end)
