-- arn:aws:states:::bedrock:invokeModel through the node model server
-- (spec/support/model_server.mjs): the Body goes as is to InvokeModel,
-- signed with SigV4 (the server recomputes the signature with
-- @smithy/signature-v4), the answer comes back as {Body, ContentType}, and
-- Bedrock's refusals are Bedrock.<Exception> errors a Catch or Retry
-- matches, as Step Functions names them.
local orchestra = require "orchestra"
local model_server = require "spec.support.model_server"

local MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
local AWS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
              region = "us-west-2" }

local function definition(task_extra, states_extra)
  local task = {
    Type = "Task", Resource = "arn:aws:states:::bedrock:invokeModel",
    Parameters = {
      ModelId = MODEL,
      Body = {
        anthropic_version = "bedrock-2023-05-31", max_tokens = 200,
        messages = { { role = "user", content = { { type = "text", ["text.$"] = "$.question" } } } },
      },
    },
    ResultSelector = { ["answer.$"] = "$.Body.content[0].text", ["stop.$"] = "$.Body.stop_reason" },
    End = true,
  }
  for k, v in pairs(task_extra or {}) do task[k] = v end
  local states = { Ask = task }
  for k, v in pairs(states_extra or {}) do states[k] = v end
  return { StartAt = "Ask", States = states }
end

local function engine_for(server, extra)
  local bedrock = { endpoint_url = server.url, region = AWS.region, access_key_id = AWS.access_key_id,
                    secret_access_key = AWS.secret_access_key }
  for k, v in pairs(extra or {}) do bedrock[k] = v end
  return orchestra.engine { clock = "virtual", bedrock = bedrock }
end

local function events_of(ex, type)
  local out = {}
  for _, e in ipairs(ex:history().events) do
    if e.type == type then out[#out + 1] = e end
  end
  return out
end

describe("bedrock:invokeModel", function()
  if not model_server.available() then
    it("needs node and spec/support/node_modules (make node-deps)", function()
      error("the model server cannot run here: run `make node-deps`")
    end)
    return
  end
  local server
  setup(function() server = model_server.start() end)
  teardown(function() if server then server:stop() end end)
  before_each(function() server:reset({ aws = AWS }) end)

  it("sends the Body as is, signed, and returns {Body, ContentType}", function()
    server:enqueue({ turn = { text = "Paris.", usage = { input = 12, output = 3 } } })
    local engine = engine_for(server)
    local ex = engine:load(definition()):start({ question = "Capital of France?" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ answer = "Paris.", stop = "end_turn" }, ex.output)
    local reqs = server:requests()
    assert.are.equal(1, #reqs)
    assert.are.equal("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", reqs[1].path)
    assert.are.equal("ok", reqs[1].signature)
    assert.are.equal(orchestra.null, reqs[1].problem)
    assert.are.same({ anthropic_version = "bedrock-2023-05-31", max_tokens = 200,
                      messages = { { role = "user", content = { { type = "text", text = "Capital of France?" } } } } },
                    reqs[1].body)
    -- the history as Step Functions records an optimized integration
    local sched = events_of(ex, "TaskScheduled")[1].taskScheduledEventDetails
    assert.are.equal("bedrock", sched.resourceType)
    assert.are.equal("invokeModel", sched.resource)
    local done = orchestra.json.decode(events_of(ex, "TaskSucceeded")[1].taskSucceededEventDetails.output)
    assert.are.equal("application/json", done.ContentType)
    assert.are.equal("message", done.Body.type)
    assert.are.same({ input_tokens = 12, output_tokens = 3, cache_creation_input_tokens = 0,
                      cache_read_input_tokens = 0 }, done.Body.usage)
    engine:close()
  end)

  it("fails with Bedrock.ThrottlingException and the SDK's cause, which a Catch matches", function()
    server:enqueue({ fault = "status", status = 429, message = "Too many requests, please wait before trying again." })
    local engine = engine_for(server)
    local def = definition({ Catch = { { ErrorEquals = { "Bedrock.ThrottlingException" }, ResultPath = "$.error",
                                         Next = "Later" } } },
                           { Later = { Type = "Pass", End = true } })
    local ex = engine:load(def):start({ question = "hi" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("Bedrock.ThrottlingException", ex.output.error.Error)
    assert.are.equal("Too many requests, please wait before trying again. (Service: BedrockRuntime, " ..
                     "Status Code: 429, Request ID: 00000000-test-4000-8000-000000000000)", ex.output.error.Cause)
    engine:close()
  end)

  it("is retried by the state's Retry, then succeeds", function()
    server:enqueue({ { fault = "status", status = 503, message = "busy" },
                     { turn = { text = "second time" } } })
    local engine = engine_for(server)
    local def = definition({ Retry = { { ErrorEquals = { "Bedrock.ServiceUnavailableException" },
                                         IntervalSeconds = 2, MaxAttempts = 2 } } })
    local ex = engine:load(def):start({ question = "hi" })
    ex:wait()
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("second time", ex.output.answer)
    assert.are.equal(2, #events_of(ex, "TaskScheduled"))
    assert.are.equal("Bedrock.ServiceUnavailableException",
                     events_of(ex, "TaskFailed")[1].taskFailedEventDetails.error)
    engine:close()
  end)

  it("passes the service's validation message on (a Body Bedrock refuses)", function()
    local engine = engine_for(server)
    local def = definition()
    def.States.Ask.Parameters.Body.anthropic_version = nil
    local ex = engine:load(def):start({ question = "hi" })
    ex:wait()
    assert.are.equal("FAILED", ex.status)
    assert.are.equal("Bedrock.ValidationException", ex.error)
    assert.matches('anthropic_version: must be "bedrock-2023-05-31" on Bedrock (Service: BedrockRuntime, Status Code: 400',
                   ex.cause, 1, true)
    engine:close()
  end)

  it("refuses Parameters without ModelId or Body before sending anything", function()
    local engine = engine_for(server)
    local no_model = definition()
    no_model.States.Ask.Parameters.ModelId = nil
    local ex = engine:load(no_model):start({ question = "hi" })
    ex:wait()
    assert.are.equal("Bedrock.ValidationException", ex.error)
    assert.matches("ModelId must be a model id", ex.cause, 1, true)
    local no_body = definition()
    no_body.States.Ask.Parameters.Body = nil
    ex = engine:load(no_body):start({ question = "hi" })
    ex:wait()
    assert.are.equal("Bedrock.ValidationException", ex.error)
    assert.matches("Body is required", ex.cause, 1, true)
    local s3 = definition()
    s3.States.Ask.Parameters.Input = { S3Uri = "s3://bucket/key" }
    ex = engine:load(s3):start({ question = "hi" })
    ex:wait()
    assert.are.equal("States.Runtime", ex.error)
    assert.matches("S3Uri) are not supported", ex.cause, 1, true)
    assert.are.same({}, server:requests())
    engine:close()
  end)

  it("a wrong secret gets AWS's signature refusal, and the secret appears nowhere", function()
    local engine = engine_for(server, { secret_access_key = "not-the-right-secret-key-0123456789" })
    local ex = engine:load(definition()):start({ question = "hi" })
    ex:wait()
    assert.are.equal("FAILED", ex.status)
    assert.are.equal("Bedrock.InvalidSignatureException", ex.error)
    assert.matches("The request signature we calculated does not match", ex.cause, 1, true)
    assert.is_nil(ex:history_json():find("not-the-right-secret-key", 1, true))
    assert.is_nil(ex:history_json():find(AWS.secret_access_key, 1, true))
    engine:close()
  end)

  it("a transfer that fails is States.TaskFailed naming why", function()
    server:enqueue({ { fault = "drop" }, { fault = "malformed" } })
    local engine = engine_for(server)
    local ex = engine:load(definition()):start({ question = "hi" })
    ex:wait()
    assert.are.equal("States.TaskFailed", ex.error)
    assert.matches("^bedrock: ", ex.cause)
    ex = engine:load(definition()):start({ question = "hi" })
    ex:wait()
    assert.are.equal("States.TaskFailed", ex.error)
    assert.matches("not JSON", ex.cause, 1, true)
    -- nothing listens on port 1
    local e2 = orchestra.engine { clock = "virtual", bedrock = { endpoint_url = "http://127.0.0.1:1",
      region = "us-east-1", access_key_id = "AKID", secret_access_key = "SECRETSECRET" } }
    ex = e2:load(definition()):start({ question = "hi" })
    ex:wait()
    assert.are.equal("States.TaskFailed", ex.error)
    assert.matches("connection refused", ex.cause, 1, true)
    e2:close()
    engine:close()
  end)

  it("a task that times out while its request is in flight drops the late answer", function()
    server:enqueue({ turn = { text = "too late" }, delay_ms = 1500 })
    local engine = orchestra.engine { bedrock = { endpoint_url = server.url, region = AWS.region,
      access_key_id = AWS.access_key_id, secret_access_key = AWS.secret_access_key } }
    local ex = engine:load(definition({ TimeoutSeconds = 1 })):start({ question = "hi" })
    ex:wait()
    assert.are.equal("FAILED", ex.status)
    assert.are.equal("States.Timeout", ex.error)
    -- the answer arrives later and changes nothing
    local t0 = orchestra.monotonic()
    while orchestra.monotonic() - t0 < 0.8 do engine:step() end
    assert.are.equal("States.Timeout", ex.error)
    -- an engine closed with a request in flight frees it
    server:enqueue({ turn = { text = "never read" }, delay_ms = 2000 })
    local ex2 = engine:load(definition()):start({ question = "hi" })
    engine:step()
    assert.are.equal("RUNNING", ex2.status)
    engine:close()
  end)

  it("checks the engine option", function()
    assert.has_error(function() orchestra.engine { bedrock = { endpoint_url = "ftp://x" } } end,
      "orchestra.engine: bedrock: endpoint_url must start with http:// or https://: ftp://x")
    assert.has_error(function() orchestra.engine { bedrock = { endpoint = "http://x" } } end,
      "orchestra.engine: unknown option 'endpoint' (known: region, endpoint_url, access_key_id, " ..
      "secret_access_key, session_token, timeout_seconds)")
    assert.has_error(function() orchestra.engine { bedrock = { region = 3 } } end,
      "orchestra.engine: option 'region' must be a string, not number")
    assert.has_error(function() orchestra.engine { bedrock = "us-east-1" } end,
      "orchestra.engine: option 'bedrock' must be a table, not string")
  end)
end)
