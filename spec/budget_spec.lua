-- Budgets (issue 11 part 7): budget_usd on an agent, an invocation, an
-- execution or the engine. The meter prices what was used with the
-- catalog (data/prices.json) and stops the work with Cost.BudgetExceeded:
-- an agent before a model call whose bound (input tokens, estimated as
-- bytes / 4 rounded up, at the input price + max_tokens at the output
-- price) would take it over; a workflow after the billable unit that took
-- it over, and an invokeModel task before its request.
--
-- Prices used below (data/prices.json):
--   claude-3-5-sonnet (v1): $3 / $15 per million tokens = $0.000003 /
--   $0.000015 a token; claude-3-5-haiku: $0.80 / $4 per million;
--   Step Functions Standard: $0.025 per 1,000 transitions = $0.000025.
local orchestra = require "orchestra"
local model_server = require "spec.support.model_server"

local SONNET = "claude-3-5-sonnet"

local function events_of(ex, type)
  local out = {}
  for e in ex:events() do
    if e.type == type then out[#out + 1] = e end
  end
  return out
end

-- The first request of an agent without tools or instructions, prompt
-- "hello": the tools list "[]" (2 bytes) and the user message
-- {"role":"user","content":[{"type":"text","text":"hello"}]} (58 bytes,
-- + 1) = 61 bytes, estimated at ceil(61 / 4) = 16 input tokens.
local FIRST_ESTIMATE = 16

-- Three turns: two tool calls, then the answer.
local function turns()
  return {
    { text = "looking", tool_calls = { { id = "c1", name = "lookup", arguments = { q = "x" } } },
      usage = { input_tokens = 1000, output_tokens = 200 } },
    { text = "again", tool_calls = { { id = "c2", name = "lookup", arguments = { q = "y" } } },
      usage = { input_tokens = 1500, output_tokens = 200 } },
    { text = "done", usage = { input_tokens = 1700, output_tokens = 10 } },
  }
end

local function agent(E, opts, calls)
  calls = calls or {}
  local spec = {
    name = opts.name or "a",
    model = orchestra.models.scripted { model = SONNET, fn = function()
      calls.model = (calls.model or 0) + 1
      return turns()[calls.model]
    end },
    tools = opts.tools ~= false and { lookup = { description = "look something up", handler = function(args)
      calls.tool = (calls.tool or 0) + 1
      return { found = args.q }
    end } } or nil,
  }
  for k, v in pairs(opts) do
    if k ~= "tools" and k ~= "name" then spec[k] = v end
  end
  return E:agent(spec), calls
end

describe("agent budgets", function()
  it("stop an invocation before a first model call that could exceed the budget", function()
    local E = orchestra.engine { clock = "virtual" }
    local a, calls = agent(E, { budget_usd = 0.05, tools = false })
    local ex = a:start("hello")
    assert.are.equal("FAILED", ex:wait())
    assert.are.equal("Cost.BudgetExceeded", ex.error)
    local cause = orchestra.json.decode(ex.cause)
    -- bound: 16 x $0.000003 + 4,096 (the default bound without max_tokens)
    -- x $0.000015 = $0.000048 + $0.06144 = $0.061488 > $0.05
    assert.are.equal(FIRST_ESTIMATE, 16)
    assert.are.equal("the next model call on claude-3-5-sonnet could cost up to $0.061488 (16 input "
      .. "tokens, estimated, + 4096 max_tokens): with $0 spent, that is over the budget of $0.05", cause.message)
    assert.are.equal(0, cause.steps)
    assert.are.equal(0, cause.usage.output_tokens)
    assert.are.equal(nil, calls.model) -- the model was never called
    assert.are.same({}, events_of(ex, "ModelCallScheduled"))
    assert.are.equal(0.05, ex.budget_usd)
    E:close()
  end)

  it("stop it before a later call, keeping the transcript, the partial text and the usage", function()
    local E = orchestra.engine { clock = "virtual" }
    local a, calls = agent(E, { budget_usd = 0.065 })
    local ex = a:start("hello")
    assert.are.equal("FAILED", ex:wait())
    assert.are.equal("Cost.BudgetExceeded", ex.error)
    local cause = orchestra.json.decode(ex.cause)
    -- after call 1: 1,000 x $0.000003 + 200 x $0.000015 = $0.003 + $0.003
    -- = $0.006 spent. Call 2's input: the 1,000 tokens call 1 reported +
    -- the text added since (the answer and the tool result, 244 bytes) / 4
    -- = 61 -> 1,061 tokens. Bound: 1,061 x $0.000003 + 4,096 x $0.000015
    -- = $0.003183 + $0.06144 = $0.064623; $0.006 + $0.064623 = $0.070623
    -- > $0.065.
    assert.are.equal("the next model call on claude-3-5-sonnet could cost up to $0.064623 (1061 input "
      .. "tokens, estimated, + 4096 max_tokens): with $0.006 spent, that is over the budget of $0.065", cause.message)
    assert.are.equal(1, cause.steps)
    assert.are.equal("looking", cause.partial)
    assert.are.same({ input_tokens = 1000, output_tokens = 200, cache_read_tokens = 0, cache_write_tokens = 0 },
      cause.usage)
    assert.are.equal(3, #cause.transcript) -- prompt, answer with the call, tool result
    assert.are.same({ found = "x" }, cause.transcript[3].content[1].content)
    assert.are.equal(1, calls.model)
    assert.are.equal(1, calls.tool)
    -- the meter's bill is what the one call cost
    assert.is_true(ex.metered)
    assert.are.equal(0.006, ex.cost.total)
    E:close()
  end)

  it("bound a call by what is left of max_tokens", function()
    local E = orchestra.engine { clock = "virtual" }
    local a = agent(E, { budget_usd = 0.02, max_tokens = 1000 })
    local ex = a:start("hello")
    assert.are.equal("FAILED", ex:wait())
    -- call 1: 16 x $0.000003 + 1,000 x $0.000015 = $0.015048 <= $0.02;
    -- call 2: 1,061 x $0.000003 + (1,000 - 200) x $0.000015 = $0.003183 +
    -- $0.012 = $0.015183; $0.006 + $0.015183 = $0.021183 > $0.02
    assert.are.equal("the next model call on claude-3-5-sonnet could cost up to $0.015183 (1061 input "
      .. "tokens, estimated, + 800 max_tokens): with $0.006 spent, that is over the budget of $0.02",
      orchestra.json.decode(ex.cause).message)
    E:close()
  end)

  it("let an invocation that fits run to its answer, and take a budget per invocation", function()
    local E = orchestra.engine { clock = "virtual" }
    local a = agent(E, { max_tokens = 1000 })
    -- no budget: the three calls run. Spent: (1,000 + 1,500 + 1,700) x
    -- $0.000003 + (200 + 200 + 10) x $0.000015 = $0.0126 + $0.00615 =
    -- $0.01875
    local ok = a:start("hello")
    assert.are.equal("SUCCEEDED", ok:wait())
    assert.are.equal("done", ok.output.text)
    -- $0.02 fits the first call only when it is given to this invocation
    local a2 = agent(E, { name = "b", max_tokens = 1000 })
    local ex = a2:start("hello", { budget_usd = 0.02 })
    assert.are.equal("FAILED", ex:wait())
    assert.are.equal("Cost.BudgetExceeded", ex.error)
    assert.are.equal(0.006, ex.cost.total)
    -- a budget that holds the whole run: $0.01875 spent; the last check was
    -- $0.01275 + bound(call 3) <= $0.05
    local a3 = agent(E, { name = "c", max_tokens = 1000 })
    local fits = a3:start("hello", { budget_usd = 0.05 })
    assert.are.equal("SUCCEEDED", fits:wait())
    assert.are.equal(0.01875, fits.cost.total)
    E:close()
  end)

  it("refuse a model the catalog does not price, when the agent is made or the invocation starts", function()
    local E = orchestra.engine { clock = "virtual" }
    local ok, err = pcall(E.agent, E, { name = "x", budget_usd = 1,
      model = orchestra.models.scripted { turns = { { text = "hi" } } } })
    assert.is_false(ok)
    assert.are.equal("InvalidAgent", err.code)
    assert.are.equal("engine:agent: budget_usd 1: model 'scripted' has no "
      .. "price in the catalog (add it with orchestra.cost.catalog{models = {...}} or --prices FILE) (a scripted "
      .. "model is priced as the model it names: orchestra.models.scripted{model = ...})", err.message)
    local b = E:agent { name = "y", model = orchestra.models.scripted { model = "my-model", turns = { { text = "hi" } } } }
    ok, err = pcall(b.start, b, "hello", { budget_usd = 0.5 })
    assert.is_false(ok)
    assert.are.equal("InvalidArgument", err.code)
    assert.matches("model 'my-model' has no price in the catalog", err.message, 1, true)
    -- once priced (orchestra.cost.catalog merges into the engine's catalog)
    local cost = require "orchestra.cost"
    cost.catalog { models = { ["my-model"] = { input_per_million = 1, output_per_million = 2,
      source = "test", as_of = "2026-07-24" } } }
    local ex = b:start("hello", { budget_usd = 0.5 })
    assert.are.equal("SUCCEEDED", ex:wait())
    cost.reset_catalog()
    E:close()
  end)

  it("reject a budget that is not a number >= 0", function()
    local E = orchestra.engine { clock = "virtual" }
    local ok, err = pcall(orchestra.engine, { budget_usd = -1 })
    assert.is_false(ok)
    assert.matches("option 'budget_usd' must be a number of dollars >= 0", tostring(err), 1, true)
    ok, err = pcall(E.agent, E, { budget_usd = "5", model = orchestra.models.scripted { model = SONNET, turns = {} } })
    assert.is_false(ok)
    assert.matches("option 'budget_usd' must be a number, not string", tostring(err), 1, true)
    local m = E:load { StartAt = "P", States = { P = { Type = "Pass", End = true } } }
    ok, err = pcall(m.start, m, {}, { budget_usd = 0 / 0 })
    assert.is_false(ok)
    assert.matches("machine:start: option 'budget_usd' must be a number of dollars >= 0", tostring(err), 1, true)
    E:close()
  end)

  it("are caught by a state machine's Catch when the agent runs as a Task", function()
    local E = orchestra.engine { clock = "virtual" }
    agent(E, { name = "triage", budget_usd = 0.05, tools = false })
    local m = E:load {
      StartAt = "Ask",
      States = {
        Ask = { Type = "Task", Resource = "arn:aws:states:::aws-sdk:bedrockagentruntime:invokeAgent",
                Parameters = { AgentId = "triage", AgentAliasId = "TSTALIASID", SessionId = "s-1",
                               ["InputText.$"] = "$.text" },
                Catch = { { ErrorEquals = { "Cost.BudgetExceeded" }, ResultPath = "$.error", Next = "OverBudget" } },
                End = true },
        OverBudget = { Type = "Pass", End = true },
      },
    }
    local ex = m:start({ text = "hello" })
    assert.are.equal("SUCCEEDED", ex:wait())
    assert.are.equal("Cost.BudgetExceeded", ex.output.error.Error)
    assert.matches("could cost up to $0.061488 (16 input tokens, estimated, + 4096 max_tokens)",
      ex.output.error.Cause, 1, true)
    E:close()
  end)
end)

describe("execution budgets", function()
  local CHAIN = { StartAt = "A", States = {
    A = { Type = "Pass", Next = "B" }, B = { Type = "Pass", Next = "C" }, C = { Type = "Pass", Next = "D" },
    D = { Type = "Pass", Next = "E" }, E = { Type = "Pass", Next = "F" }, F = { Type = "Pass", Next = "G" },
    G = { Type = "Pass", End = true } } }

  it("stop a workflow after the transition that takes it over, keeping its history", function()
    local E = orchestra.engine { clock = "virtual" }
    local ex = E:load(CHAIN):start({}, { budget_usd = 0.0001 })
    assert.are.equal("FAILED", ex:wait())
    -- 4 transitions = $0.0001 fit; the 5th (entering E) makes $0.000125
    assert.are.equal("Cost.BudgetExceeded", ex.error)
    assert.are.equal("the execution's metered cost $0.000125 (5 billed transitions, 0 model calls) is over its "
      .. "budget_usd $0.0001", ex.cause)
    assert.are.equal(5, #events_of(ex, "PassStateEntered"))
    assert.are.equal("E", events_of(ex, "PassStateEntered")[5].stateEnteredEventDetails.name)
    local last = events_of(ex, "ExecutionFailed")[1]
    assert.are.equal("Cost.BudgetExceeded", last.executionFailedEventDetails.error)
    assert.are.equal(0.000125, ex.cost.total)
    E:close()
  end)

  it("do not start the task of the state that took it over", function()
    local E = orchestra.engine { clock = "virtual" }
    local called = {}
    E:handler("work", function(input, ctx)
      called[#called + 1] = ctx.State.Name
      return input
    end)
    local def = { StartAt = "T1", States = {
      T1 = { Type = "Task", Resource = "work", Next = "T2" }, T2 = { Type = "Task", Resource = "work", Next = "T3" },
      T3 = { Type = "Task", Resource = "work", Next = "T4" }, T4 = { Type = "Task", Resource = "work", End = true } } }
    local ex = E:load(def):start({}, { budget_usd = 0.000075 })
    assert.are.equal("FAILED", ex:wait())
    -- T1..T3 = $0.000075 fit; entering T4 makes $0.0001: its handler never runs
    assert.are.same({ "T1", "T2", "T3" }, called)
    assert.are.equal("the execution's metered cost $0.0001 (4 billed transitions, 0 model calls) is over its "
      .. "budget_usd $7.5e-05", ex.cause)
    E:close()
  end)

  it("come from the engine's budget_usd by default, for executions and invocations", function()
    local E = orchestra.engine { clock = "virtual", budget_usd = 0.0001 }
    local ex = E:load(CHAIN):start({})
    assert.are.equal("FAILED", ex:wait())
    assert.are.equal("Cost.BudgetExceeded", ex.error)
    assert.are.equal(0.0001, ex.budget_usd)
    -- a start may lift it (0: none)
    local free = E:load(CHAIN, { name = "Free" }):start({}, { budget_usd = 0 })
    assert.are.equal("SUCCEEDED", free:wait())
    -- an agent's first call (bound $0.061488) is over $0.0001
    local a = agent(E, { tools = false })
    local inv = a:start("hello")
    assert.are.equal("FAILED", inv:wait())
    assert.are.equal("Cost.BudgetExceeded", inv.error)
    E:close()
  end)

  describe("with bedrock:invokeModel", function()
    local BODY = { anthropic_version = "bedrock-2023-05-31", max_tokens = 1000,
                   messages = { { role = "user", content = "hi" } } }
    local function def(body, model)
      return { StartAt = "Ask", States = {
        Ask = { Type = "Task", Resource = "arn:aws:states:::bedrock:invokeModel",
                Parameters = { ModelId = model or "anthropic.claude-3-5-sonnet-20240620-v1:0", Body = body },
                Catch = { { ErrorEquals = { "Cost.BudgetExceeded", "Cost.UnknownPrice" }, ResultPath = "$.error",
                            Next = "Stopped" } },
                End = true },
        Stopped = { Type = "Pass", End = true } } }
    end

    it("check the call's bound before the request is sent", function()
      local E = orchestra.engine { clock = "virtual", bedrock = { endpoint_url = "http://127.0.0.1:9" } }
      local ex = E:load(def(BODY)):start({}, { budget_usd = 0.01 })
      assert.are.equal("SUCCEEDED", ex:wait())
      -- the Body's text is 104 bytes -> 26 input tokens: 26 x $0.000003 +
      -- 1,000 x $0.000015 = $0.000078 + $0.015 = $0.015078; with the Task's
      -- transition spent ($0.000025) that is over $0.01
      assert.are.equal(104, #orchestra.json.encode(BODY))
      assert.are.same({ Error = "Cost.BudgetExceeded", Cause = "the next model call on "
        .. "anthropic.claude-3-5-sonnet-20240620-v1:0 could cost up to $0.015078 (26 input tokens, estimated, + "
        .. "1000 max_tokens): with $2.5e-05 spent, that is over the budget of $0.01" }, ex.output.error)
      E:close()
    end)

    it("fail with Cost.UnknownPrice when the call cannot be priced", function()
      local E = orchestra.engine { clock = "virtual", bedrock = { endpoint_url = "http://127.0.0.1:9" } }
      local ex = E:load(def(BODY, "acme.unknown-v1")):start({}, { budget_usd = 1 })
      assert.are.equal("SUCCEEDED", ex:wait())
      assert.are.equal("Cost.UnknownPrice", ex.output.error.Error)
      assert.matches("model 'acme.unknown-v1' has no price in the catalog", ex.output.error.Cause, 1, true)
      local nobound = E:load(def({ anthropic_version = "bedrock-2023-05-31", messages = BODY.messages }),
        { name = "NoBound" }):start({}, { budget_usd = 1 })
      assert.are.equal("SUCCEEDED", nobound:wait())
      assert.are.equal("Cost.UnknownPrice", nobound.output.error.Error)
      assert.matches("the Body names no maximum of output tokens", nobound.output.error.Cause, 1, true)
      E:close()
    end)

    if model_server.available() then
      it("meter the tokens a call reports, so a second call is refused", function()
        local server = model_server.start()
        local AWS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                      region = "us-west-2" }
        server:reset({ aws = AWS })
        server:enqueue({ turn = { text = "Paris.", usage = { input = 2000, output = 1000 } } })
        local E = orchestra.engine { clock = "virtual", bedrock = { endpoint_url = server.url, region = AWS.region,
          access_key_id = AWS.access_key_id, secret_access_key = AWS.secret_access_key } }
        local haiku = "anthropic.claude-3-5-haiku-20241022-v1:0"
        local body = { anthropic_version = "bedrock-2023-05-31", max_tokens = 1000,
                       messages = { { role = "user", content = "hi" } } }
        local task = function(next_state)
          return { Type = "Task", Resource = "arn:aws:states:::bedrock:invokeModel", ResultPath = "$.r",
                   Parameters = { ModelId = haiku, Body = body }, Next = next_state, End = not next_state or nil }
        end
        local ex = E:load({ StartAt = "One", States = { One = task("Two"), Two = task() } })
          :start({}, { budget_usd = 0.006 })
        assert.are.equal("FAILED", ex:wait())
        -- call 1's bound: 26 x $0.0000008 + 1,000 x $0.000004 = $0.0040208;
        -- + $0.000025 spent <= $0.006. It reports 2,000 + 1,000 tokens:
        -- $0.0016 + $0.004 = $0.0056; with 2 transitions $0.00565 spent;
        -- call 2's bound $0.0040208 takes it over
        assert.are.equal("Cost.BudgetExceeded", ex.error)
        assert.are.equal("the next model call on " .. haiku .. " could cost up to $0.0040208 (26 input tokens, "
          .. "estimated, + 1000 max_tokens): with $0.00565 spent, that is over the budget of $0.006", ex.cause)
        assert.are.equal(1, #server:requests())
        assert.are.equal(0.00565, ex.cost.total)
        -- the recorded history gives the same bill: the TaskSucceeded's
        -- Body.usage priced as its TaskScheduled's ModelId
        local measured = orchestra.cost.of(ex:history())
        assert.are.equal(0.00565, measured.total)
        assert.are.equal(2000, measured.lines[2].units)
        assert.are.equal(haiku .. " input", measured.lines[2].item)
        E:close()
        server:stop()
      end)
    end
  end)
end)
