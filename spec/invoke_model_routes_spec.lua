-- bedrock:invokeModel answered by the engine's own models (the engine option
-- `models`): the longest routed prefix of the ModelId chooses the model; a
-- scripted model runs offline; OpenAI-compatible and Anthropic providers
-- are called over HTTP (the node model server) with the Body mapped from
-- Anthropic's native format, and their answer comes back as Bedrock's
-- native response, so a definition written for AWS reads the same fields;
-- a Bedrock route sends the Body unchanged to its own model id and
-- endpoint; no route: Bedrock as before.
local orchestra = require "orchestra"
local model_server = require "spec.support.model_server"

local MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"

local function definition(body, extra)
  local task = {
    Type = "Task", Resource = "arn:aws:states:::bedrock:invokeModel",
    Parameters = { ModelId = MODEL, Body = body },
    End = true,
  }
  for k, v in pairs(extra or {}) do task[k] = v end
  return { StartAt = "Ask", States = { Ask = task } }
end

local function ask(text)
  return { anthropic_version = "bedrock-2023-05-31", max_tokens = 300, system = "Answer in one word.",
           messages = { { role = "user", content = text } } }
end

local function run(engine, def, input)
  local ex = engine:load(def):start(input or {})
  ex:wait()
  return ex
end

describe("invokeModel routed to the engine's models", function()
  it("answers from a scripted model offline, in Anthropic's native response format", function()
    local seen
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted(function(messages, tools, ctx)
        seen = { messages = messages, tools = tools, ctx = ctx }
        return { text = "Paris.", usage = { input_tokens = 12, output_tokens = 3 } }
      end) } }
    local ex = run(engine, definition(ask("Capital of France?"),
      { ResultSelector = { ["answer.$"] = "$.Body.content[0].text", ["stop.$"] = "$.Body.stop_reason" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ answer = "Paris.", stop = "end_turn" }, ex.output)
    assert.are.same({ { role = "user", content = { { type = "text", text = "Capital of France?" } } } }, seen.messages)
    assert.are.same({}, seen.tools)
    assert.are.equal("Answer in one word.", seen.ctx.instructions)
    assert.are.equal(300, seen.ctx.max_tokens)
    assert.are.equal(MODEL, seen.ctx.ModelId)
    assert.are.equal("anthropic.", seen.ctx.Route)
    assert.are.equal("Ask", seen.ctx.State.Name)
    -- the task's result as Step Functions records it
    local out
    for _, e in ipairs(ex:history().events) do
      if e.type == "TaskSucceeded" then out = orchestra.json.decode(e.taskSucceededEventDetails.output) end
    end
    assert.are.equal("application/json", out.ContentType)
    assert.are.equal("message", out.Body.type)
    assert.are.equal("assistant", out.Body.role)
    assert.are.equal(MODEL, out.Body.model)
    assert.truthy(out.Body.id:match("^msg_%x+$"))
    assert.are.equal(orchestra.null, out.Body.stop_sequence)
    assert.are.same({ input_tokens = 12, output_tokens = 3, cache_creation_input_tokens = 0,
                      cache_read_input_tokens = 0 }, out.Body.usage)
    engine:close()
  end)

  it("maps a tool round trip both ways and answers tool calls as tool_use blocks", function()
    local seen
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted(function(messages, tools)
        seen = { messages = messages, tools = tools }
        return { text = "Checking again.", tool_calls = { { id = "toolu_2", name = "lookup_order", arguments = { order_id = 43 } } } }
      end) } }
    local body = {
      anthropic_version = "bedrock-2023-05-31", max_tokens = 300,
      tools = { { name = "lookup_order", description = "Fetch an order by id",
                  input_schema = { type = "object", properties = { order_id = { type = "integer" } } } } },
      messages = {
        { role = "user", content = "Where is order 42?" },
        { role = "assistant", content = { { type = "text", text = "Let me check." },
          { type = "tool_use", id = "toolu_1", name = "lookup_order", input = { order_id = 42 } } } },
        { role = "user", content = {
          { type = "tool_result", tool_use_id = "toolu_1", content = { { type = "text", text = "shipped" } } },
          { type = "text", text = "And 43?" } } },
      },
    }
    local ex = run(engine, definition(body, { ResultSelector = { ["content.$"] = "$.Body.content", ["stop.$"] = "$.Body.stop_reason" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ { name = "lookup_order", description = "Fetch an order by id",
                        schema = { type = "object", properties = { order_id = { type = "integer" } } } } }, seen.tools)
    assert.are.same({ type = "tool_use", id = "toolu_1", name = "lookup_order", input = { order_id = 42 } },
                    seen.messages[2].content[2])
    assert.are.same({ type = "tool_result", tool_use_id = "toolu_1", content = "shipped" }, seen.messages[3].content[1])
    assert.are.equal("tool_use", ex.output.stop)
    assert.are.same({ { type = "text", text = "Checking again." },
                      { type = "tool_use", id = "toolu_2", name = "lookup_order", input = { order_id = 43 } } },
                    ex.output.content)
    engine:close()
  end)

  it("plays a list of turns across tasks; one too many fails with States.TaskFailed", function()
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted { turns = { { text = "one" }, { text = "two" } } } } }
    local m = engine:load(definition(ask("?"), { ResultSelector = { ["t.$"] = "$.Body.content[0].text" } }))
    local texts = {}
    for i = 1, 2 do
      local ex = m:start({})
      ex:wait()
      texts[i] = ex.output.t
    end
    assert.are.same({ "one", "two" }, texts)
    local ex = m:start({})
    ex:wait()
    assert.are.equal("FAILED", ex.status)
    assert.are.equal("States.TaskFailed", ex.error)
    assert.are.equal("bedrock:invokeModel: the scripted model routed for 'anthropic.' has no turn 3 (it has 2)", ex.cause)
    engine:close()
  end)

  it("chooses the longest matching prefix", function()
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted { turns = { { text = "general" } } },
      ["anthropic.claude-3-5-haiku"] = orchestra.models.scripted { turns = { { text = "haiku" } } },
      [MODEL .. "-not-this"] = orchestra.models.scripted { turns = { { text = "longer, no match" } } },
    } }
    local ex = run(engine, definition(ask("?"), { ResultSelector = { ["t.$"] = "$.Body.content[0].text" } }))
    assert.are.equal("haiku", ex.output.t)
    engine:close()
  end)

  it("fails with States.TaskFailed naming the model id when the Body cannot be mapped", function()
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted { turns = { { text = "never" } } },
      ["meta."] = orchestra.models.scripted { turns = { { text = "never" } } } } }
    local image = definition({ anthropic_version = "bedrock-2023-05-31", max_tokens = 10, messages = {
      { role = "user", content = { { type = "image", source = { type = "base64", media_type = "image/png", data = "AA==" } } } } } })
    local ex = run(engine, image)
    assert.are.equal("States.TaskFailed", ex.error)
    assert.are.equal("bedrock:invokeModel: the Body of model '" .. MODEL .. "' cannot be mapped to the scripted model " ..
                     "routed for 'anthropic.': messages[0].content[0] is a 'image' block (text, tool_use and tool_result " ..
                     "blocks map)", ex.cause)
    local llama = definition({ prompt = "hi", max_gen_len = 10 })
    llama.States.Ask.Parameters.ModelId = "meta.llama3-8b-instruct-v1:0"
    ex = run(engine, llama)
    assert.are.equal("States.TaskFailed", ex.error)
    assert.truthy(ex.cause:find("the Body of model 'meta.llama3-8b-instruct-v1:0' cannot be mapped to the scripted model " ..
                                "routed for 'meta.': orchestra maps the Anthropic Messages format", 1, true), ex.cause)
    ex = run(engine, definition({ anthropic_version = "bedrock-2023-05-31", max_tokens = 10 }))
    assert.are.equal("States.TaskFailed", ex.error)
    assert.truthy(ex.cause:find("the Body has no messages", 1, true), ex.cause)
    engine:close()
  end)

  it("a scripted model's bad turn fails the task with the reason", function()
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted(function()
        return { tool_calls = { { name = "x", arguments = "not an object" } } }
      end) } }
    local ex = run(engine, definition(ask("?")))
    assert.are.equal("States.TaskFailed", ex.error)
    assert.are.equal("bedrock:invokeModel: the scripted model routed for 'anthropic.' for model '" .. MODEL ..
                     "' gave a bad turn: tool_calls[0].arguments is string, not an object", ex.cause)
    engine:close()
  end)

  it("a pending scripted call is dropped when the workflow stops; its late answer is refused", function()
    local token
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.scripted(function(_, _, ctx)
        token = ctx.Task.Token
        return orchestra.pending
      end) } }
    local ex = engine:load(definition(ask("?"))):start({})
    engine:run()
    assert.are.equal("RUNNING", ex.status)
    assert.truthy(token)
    ex:stop("Stopped", "by the spec")
    engine:run()
    assert.are.equal("ABORTED", ex.status)
    assert.has_error(function() engine:task_success(token, { text = "late" }) end)
    engine:close()
  end)

  it("checks the option", function()
    local ok, err = pcall(orchestra.engine, { models = "anthropic." })
    assert.is_false(ok)
    assert.are.equal("orchestra.engine: option 'models' must be a table {[model id or prefix] = orchestra.models.*}, not string",
                     tostring(err))
    ok, err = pcall(orchestra.engine, { models = { [""] = orchestra.models.scripted { turns = {} } } })
    assert.are.equal("orchestra.engine: option 'models': keys are model ids or prefixes (non-empty strings), not an empty string",
                     tostring(err))
    ok, err = pcall(orchestra.engine, { models = { ["anthropic."] = { kind = "openai" } } })
    assert.are.equal("orchestra.engine: models['anthropic.'] must be an orchestra.models.* value, not table", tostring(err))
    ok, err = pcall(orchestra.engine, { models = { ["anthropic."] = orchestra.models.openai { model = "m", base_url = "ftp://x" } } })
    assert.is_false(ok)
    assert.are.equal("InvalidModel", err.code)
    assert.truthy(err.message:find("^orchestra.engine: models%['anthropic.'%]: "), err.message)
  end)
end)

describe("invokeModel routed to providers over HTTP", function()
  if not model_server.available() then
    it("needs node and spec/support/node_modules (make node-deps)", function()
      error("the model server cannot run here: run `make node-deps`")
    end)
    return
  end
  local server
  setup(function() server = model_server.start() end)
  teardown(function() if server then server:stop() end end)
  before_each(function()
    server:reset({ api_key = "sk-route-test", anthropic_key = "ant-route-test",
                   aws = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                           region = "us-west-2" } })
  end)

  local function tool_body()
    return {
      anthropic_version = "bedrock-2023-05-31", max_tokens = 200, system = "You track orders.",
      tools = { { name = "lookup_order", description = "Fetch an order", input_schema = { type = "object",
                  properties = { order_id = { type = "integer" } }, required = { "order_id" } } } },
      messages = { { role = "user", content = "Where is order 42?" } },
    }
  end

  it("an OpenAI-compatible provider gets Chat Completions; the workflow reads Anthropic's fields", function()
    server:enqueue({ turn = { text = "Let me look.", tool_calls = { { id = "call_9", name = "lookup_order",
                     arguments = { order_id = 42 } } }, stop = "tool_use", usage = { input = 40, output = 9 } } })
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.openai { base_url = server.url .. "/v1", model = "local-model",
                                                 api_key = "sk-route-test" } } }
    local ex = run(engine, definition(tool_body(), { ResultSelector = {
      ["text.$"] = "$.Body.content[0].text", ["call.$"] = "$.Body.content[1]", ["stop.$"] = "$.Body.stop_reason",
      ["usage.$"] = "$.Body.usage" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.same({ text = "Let me look.", stop = "tool_use",
                      call = { type = "tool_use", id = "call_9", name = "lookup_order", input = { order_id = 42 } },
                      usage = { input_tokens = 40, output_tokens = 9, cache_creation_input_tokens = 0,
                                cache_read_input_tokens = 0 } }, ex.output)
    local reqs = server:requests()
    assert.are.equal(1, #reqs)
    assert.are.equal("openai", reqs[1].provider)
    assert.are.equal(orchestra.null, reqs[1].problem)
    assert.are.equal("local-model", reqs[1].body.model)
    assert.are.same({ role = "system", content = "You track orders." }, reqs[1].body.messages[1])
    assert.are.same({ role = "user", content = "Where is order 42?" }, reqs[1].body.messages[2])
    assert.are.equal("lookup_order", reqs[1].body.tools[1]["function"].name)
    engine:close()
  end)

  it("an Anthropic provider gets a Messages request with the route's model", function()
    server:enqueue({ turn = { text = "Shipped.", usage = { input = 30, output = 2, cache_read = 5 } } })
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.anthropic { base_url = server.url, model = "claude-sonnet-4-5",
                                                    api_key = "ant-route-test" } } }
    local ex = run(engine, definition(tool_body(), { ResultSelector = { ["text.$"] = "$.Body.content[0].text",
      ["usage.$"] = "$.Body.usage" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("Shipped.", ex.output.text)
    assert.are.equal(5, ex.output.usage.cache_read_input_tokens)
    local reqs = server:requests()
    assert.are.equal("anthropic", reqs[1].provider)
    assert.are.equal(orchestra.null, reqs[1].problem)
    assert.are.equal("claude-sonnet-4-5", reqs[1].body.model)
    assert.are.equal("You track orders.", reqs[1].body.system)
    assert.are.equal("lookup_order", reqs[1].body.tools[1].name)
    engine:close()
  end)

  it("a provider's 429 is Bedrock.ThrottlingException, which the workflow's Catch matches", function()
    server:enqueue({ fault = "status", status = 429, message = "slow down" })
    local engine = orchestra.engine { clock = "virtual", models = {
      ["anthropic."] = orchestra.models.openai { base_url = server.url .. "/v1", model = "m", api_key = "sk-route-test" } } }
    local def = definition(ask("?"), { Catch = { { ErrorEquals = { "Bedrock.ThrottlingException" }, ResultPath = "$.error",
                                                   Next = "Later" } } })
    def.States.Later = { Type = "Pass", End = true }
    local ex = run(engine, def)
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("Bedrock.ThrottlingException", ex.output.error.Error)
    assert.truthy(ex.output.error.Cause:find("the openai model routed for 'anthropic.' for model '" .. MODEL .. "'", 1, true),
                  ex.output.error.Cause)
    assert.falsy(ex.output.error.Cause:find("sk-route-test", 1, true))
    engine:close()
  end)

  it("a Bedrock route sends the Body unchanged to its own model id and endpoint", function()
    server:enqueue({ turn = { text = "Routed." } })
    local engine = orchestra.engine { clock = "virtual",
      bedrock = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      models = { ["anthropic.claude-3-5"] = orchestra.models.bedrock {
        model_id = "anthropic.claude-3-haiku-20240307-v1:0", endpoint_url = server.url, region = "us-west-2" } } }
    local ex = run(engine, definition(ask("?"), { ResultSelector = { ["t.$"] = "$.Body.content[0].text" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("Routed.", ex.output.t)
    local reqs = server:requests()
    assert.are.equal("/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke", reqs[1].path)
    assert.are.equal("ok", reqs[1].signature)
    assert.are.same(ask("?"), reqs[1].body)
    engine:close()
  end)

  it("a ModelId no route matches goes to Bedrock as before", function()
    server:enqueue({ turn = { text = "From Bedrock." } })
    local engine = orchestra.engine { clock = "virtual",
      bedrock = { endpoint_url = server.url, region = "us-west-2", access_key_id = "AKIDEXAMPLE",
                  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      models = { ["openai."] = orchestra.models.scripted { turns = { { text = "never" } } } } }
    local ex = run(engine, definition(ask("?"), { ResultSelector = { ["t.$"] = "$.Body.content[0].text" } }))
    assert.are.equal("SUCCEEDED", ex.status, tostring(ex.cause))
    assert.are.equal("From Bedrock.", ex.output.t)
    assert.are.equal("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", server:requests()[1].path)
    engine:close()
  end)
end)
