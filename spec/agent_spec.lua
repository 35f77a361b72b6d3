-- The agent loop (issue 10): engine:agent, invocations as executions, tool
-- calls (Lua functions, machines, agents, return of control), argument
-- validation, limits, sessions, traces, and the three providers over HTTP
-- against the node model server (spec/support/model_server.mjs), with
-- every fault it injects.
local orchestra = require "orchestra"
local h = require "spec.helper"
local json = orchestra.json

local START = 1700000000000

local function engine(opts)
  opts = opts or {}
  opts.clock = opts.clock or "virtual"
  opts.start_time = opts.start_time or START
  opts.seed = opts.seed or 1
  return orchestra.engine(opts)
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function events_of(ex, type_)
  local t = {}
  for ev in ex:events() do
    if ev.type == type_ then
      local key = type_:sub(1, 1):lower() .. type_:sub(2) .. "EventDetails"
      t[#t + 1] = ev[key]
    end
  end
  return t
end

local function index_of(list, value)
  for i, v in ipairs(list) do if v == value then return i end end
end

local function scripted(turns)
  return orchestra.models.scripted { turns = turns }
end

local ORDER_SCHEMA = {
  type = "object",
  properties = { order_id = { type = "string" } },
  required = { "order_id" },
  additionalProperties = false,
}

local function lookup_tool(calls)
  return {
    description = "Look up an order",
    schema = ORDER_SCHEMA,
    handler = function(args, ctx)
      if calls then calls[#calls + 1] = args.order_id end
      return { id = args.order_id, status = "shipped" }
    end,
  }
end

describe("engine:agent with a scripted model", function()
  it("runs tool calls and returns the final answer, usage and transcript", function()
    local e = engine()
    local seen = {}
    local agent = e:agent {
      name = "support",
      instructions = "You are a support agent.",
      model = scripted {
        { text = "Let me look.", tool_calls = {
            { id = "c1", name = "lookup_order", arguments = { order_id = "42" } },
            { id = "c2", name = "lookup_order", arguments = { order_id = "43" } } },
          usage = { input_tokens = 10, output_tokens = 5, cache_read_tokens = 2, cache_write_tokens = 1 } },
        { text = "Orders 42 and 43 have shipped.", usage = { input_tokens = 30, output_tokens = 7 } },
      },
      tools = { lookup_order = lookup_tool(seen) },
    }
    assert.equal("support", agent.name)
    local ex = agent:start("Where are orders 42 and 43?")
    assert.equal("RUNNING", ex.status)
    assert.equal("SUCCEEDED", ex:wait())
    local out = ex.output
    assert.equal("Orders 42 and 43 have shipped.", out.text)
    assert.equal(2, out.steps)
    assert.same({ input_tokens = 40, output_tokens = 12, cache_read_tokens = 2, cache_write_tokens = 1 }, out.usage)
    assert.same({ "42", "43" }, seen)
    assert.equal(4, #out.transcript)
    assert.equal("user", out.transcript[1].role)
    assert.equal("Where are orders 42 and 43?", out.transcript[1].content[1].text)
    assert.equal("tool_use", out.transcript[2].content[2].type)
    assert.equal("tool_result", out.transcript[3].content[1].type)
    assert.same({ id = "42", status = "shipped" }, out.transcript[3].content[1].content)
    assert.is_false(out.transcript[3].content[1].is_error)
    assert.matches("^arn:aws:states:us%-east%-1:123456789012:execution:support:", ex.arn)
    assert.same({ "AgentInvocationStarted", "ModelCallScheduled", "ModelCallStarted", "ModelCallSucceeded",
                  "ToolCallScheduled", "ToolCallScheduled", "ToolCallStarted", "ToolCallSucceeded",
                  "ToolCallStarted", "ToolCallSucceeded", "ModelCallScheduled", "ModelCallStarted",
                  "ModelCallSucceeded", "AgentInvocationSucceeded" }, types(ex))
  end)

  it("records gen_ai.* attributes, the rationale and tool arguments/results", function()
    local e = engine()
    local agent = e:agent {
      model = scripted {
        { text = "I should look it up.", tool_calls = { { id = "c1", name = "lookup_order", arguments = { order_id = "42" } } },
          usage = { input_tokens = 11, output_tokens = 3 } },
        { text = "Shipped.", usage = { input_tokens = 20, output_tokens = 1 } },
      },
      tools = { lookup_order = lookup_tool() },
    }
    local ex = agent:start("Where is 42?", { session = "s1", name = "run-1" })
    ex:wait()
    assert.equal("run-1", ex.name)
    local started = events_of(ex, "AgentInvocationStarted")[1]
    assert.equal("Agent", started.agentName)
    assert.equal("s1", started.sessionId)
    assert.equal("invoke_agent", started["gen_ai.operation.name"])
    local sched = events_of(ex, "ModelCallScheduled")[1]
    assert.equal("chat", sched["gen_ai.operation.name"])
    assert.equal("scripted", sched["gen_ai.provider.name"])
    local ok = events_of(ex, "ModelCallSucceeded")
    assert.equal(11, ok[1]["gen_ai.usage.input_tokens"])
    assert.equal(3, ok[1]["gen_ai.usage.output_tokens"])
    assert.same({ "tool_use" }, ok[1]["gen_ai.response.finish_reasons"])
    assert.equal("I should look it up.", ok[1].rationale)
    assert.same({ "end_turn" }, ok[2]["gen_ai.response.finish_reasons"])
    local ts = events_of(ex, "ToolCallScheduled")[1]
    assert.equal("execute_tool", ts["gen_ai.operation.name"])
    assert.equal("lookup_order", ts["gen_ai.tool.name"])
    assert.equal("c1", ts["gen_ai.tool.call.id"])
    assert.same({ order_id = "42" }, json.decode(ts.arguments))
    local tr = events_of(ex, "ToolCallSucceeded")[1]
    assert.same({ id = "42", status = "shipped" }, json.decode(tr.result))
    local fin = events_of(ex, "AgentInvocationSucceeded")[1]
    assert.equal("Shipped.", json.decode(fin.output).text)
  end)

  it("runs the tool calls of one turn concurrently", function()
    local e = engine()
    local order = {}
    local agent = e:agent {
      model = scripted {
        { tool_calls = { { id = "a", name = "slow", arguments = { n = 1 } },
                         { id = "b", name = "slow", arguments = { n = 2 } },
                         { id = "c", name = "slow", arguments = { n = 3 } } } },
        { text = "done" },
      },
      tools = { slow = { description = "yields twice", handler = function(args)
        order[#order + 1] = "start " .. args.n
        coroutine.yield()
        coroutine.yield()
        order[#order + 1] = "end " .. args.n
        return args.n * 10
      end } },
    }
    local ex = agent:start("go")
    assert.equal("SUCCEEDED", ex:wait())
    assert.same({ "start 1", "start 2", "start 3", "end 1", "end 2", "end 3" }, order)
    local t = types(ex)
    assert.is_true(index_of(t, "ToolCallSucceeded") > 9) -- three Started before any Succeeded
    assert.equal(3, #events_of(ex, "ToolCallStarted"))
    local results = ex.output.transcript[3].content
    assert.same({ 10, 20, 30 }, { results[1].content, results[2].content, results[3].content })
  end)

  it("gives a function model the conversation and the tools, and ctx", function()
    local e = engine()
    local calls = {}
    local agent = e:agent {
      name = "fn",
      instructions = "be brief",
      model = orchestra.models.scripted(function(messages, tools, ctx)
        calls[#calls + 1] = { n = #messages, tools = tools, agent = ctx.Agent.Name }
        if #messages == 1 then
          return { tool_calls = { { id = "x", name = "lookup_order", arguments = { order_id = "9" } } } }
        end
        return { text = "last result: " .. json.encode(messages[#messages].content[1].content) }
      end),
      tools = { lookup_order = lookup_tool() },
    }
    local out = agent:invoke("hi")
    assert.equal('last result: {"id":"9","status":"shipped"}', out.text)
    assert.equal(2, #calls)
    assert.same({ 1, 3 }, { calls[1].n, calls[2].n })
    assert.equal("lookup_order", calls[1].tools[1].name)
    assert.equal("Look up an order", calls[1].tools[1].description)
    assert.same(ORDER_SCHEMA.required, calls[1].tools[1].schema.required)
    assert.equal("fn", calls[1].agent)
  end)

  it("sends schema failures, handler errors and unknown tools back to the model as error results", function()
    local e = engine()
    local ran = {}
    local seen
    local agent = e:agent {
      model = orchestra.models.scripted(function(messages)
        if #messages == 1 then
          return { tool_calls = {
            { id = "t1", name = "lookup_order", arguments = { order_id = 42 } },
            { id = "t2", name = "lookup_order", arguments = {} },
            { id = "t3", name = "lookup_order", arguments = { order_id = "1", extra = true } },
            { id = "t4", name = "refund_everything", arguments = {} },
            { id = "t5", name = "boom", arguments = {} },
            { id = "t6", name = "lookup_order", arguments = "not an object" },
            { id = "t7", name = "lookup_order", arguments = { order_id = "7" } },
          } }
        end
        seen = messages[#messages].content
        return { text = "sorry" }
      end),
      tools = {
        lookup_order = lookup_tool(ran),
        boom = { description = "fails", handler = function() error({ Error = "Shop.Closed", Cause = "the shop is closed" }) end },
      },
    }
    local out = agent:invoke("go")
    assert.equal("sorry", out.text)
    assert.same({ "7" }, ran) -- only the valid call ran
    assert.equal(7, #seen)
    local function res(i) return seen[i].content end
    for i = 1, 6 do assert.is_true(seen[i].is_error, "call " .. i) end
    assert.is_false(seen[7].is_error)
    assert.equal("Error (Agent.InvalidToolArguments): the arguments of 'lookup_order' do not match its schema: /order_id: expected string, got integer", res(1))
    assert.matches('missing required property "order_id"', res(2), 1, true)
    assert.matches('property "extra" is not allowed', res(3), 1, true)
    assert.equal("Error (Agent.UnknownTool): unknown tool 'refund_everything': the tools are boom, lookup_order", res(4))
    assert.equal("Error (Shop.Closed): the shop is closed", res(5))
    assert.matches("are not a JSON object", res(6), 1, true)
  end)

  it("records ToolCallFailed with the error and cause", function()
    local e = engine()
    local agent = e:agent {
      model = scripted {
        { tool_calls = { { id = "u", name = "nope", arguments = {} } } },
        { text = "ok" },
      },
      tools = {},
    }
    local ex = agent:start("go")
    ex:wait()
    local f = events_of(ex, "ToolCallFailed")[1]
    assert.equal("Agent.UnknownTool", f.error)
    assert.equal("unknown tool 'nope': the tools are (none)", f.cause)
    assert.equal("nope", f["gen_ai.tool.name"])
  end)

  it("lets a tool handler leave its call pending and answer it by token", function()
    local e = engine()
    local token
    local agent = e:agent {
      model = scripted { { tool_calls = { { id = "p", name = "ask", arguments = {} } } }, { text = "got it" } },
      tools = { ask = { description = "asks a human", handler = function(_, ctx)
        token = ctx.Task.Token
        assert.equal("ask", ctx.Tool.Name)
        assert.equal("p", ctx.Tool.CallId)
        return orchestra.pending
      end } },
    }
    local ex = agent:start("go")
    local status = ex:wait()
    assert.equal("RUNNING", status)
    e:task_success(token, { answer = "yes" })
    assert.equal("SUCCEEDED", ex:wait())
    assert.same({ answer = "yes" }, ex.output.transcript[3].content[1].content)
  end)
end)

describe("stopping an invocation", function()
  it("a tool handler stops its own invocation: ABORTED, the other calls dropped", function()
    local e = engine()
    local agent = e:agent {
      name = "stopper",
      model = scripted { { tool_calls = { { id = "w", name = "wait", arguments = {} }, { id = "s", name = "stop", arguments = {} } } } },
      tools = {
        wait = { description = "waits", handler = function() return orchestra.pending end },
        stop = { description = "stops", handler = function(_, ctx)
          e:execution(ctx.Execution.Id):stop("Custom.Stop", "enough")
          return "ignored"
        end },
      },
    }
    local ex = agent:start("go")
    assert.equal("ABORTED", ex:wait())
    assert.equal("Custom.Stop", ex.error)
    assert.equal(0, e:stats().pending_tasks)
    assert.equal(0, e:running())
  end)

  it("ex:stop() and ex:close() while a model call is out", function()
    local e = engine()
    local agent = e:agent { model = orchestra.models.scripted(function() return orchestra.pending end) }
    local ex = agent:start("go")
    assert.equal("RUNNING", (ex:wait()))
    assert.equal(1, e:stats().pending_tasks)
    ex:stop()
    assert.equal("ABORTED", ex.status)
    assert.equal(0, e:stats().pending_tasks)
    local ex2 = agent:start("again")
    ex2:wait()
    ex2:close()
    assert.equal(0, e:stats().pending_tasks)
    assert.equal(0, e:running())
  end)
end)

describe("agent limits", function()
  local function cause_of(ex) return json.decode(ex.cause) end

  it("ends with Agent.MaxStepsExceeded, keeping the partial answer and the transcript", function()
    local e = engine()
    local n = 0
    local agent = e:agent {
      max_steps = 3,
      model = orchestra.models.scripted(function()
        n = n + 1
        return { text = "step " .. n, tool_calls = { { id = "c" .. n, name = "lookup_order", arguments = { order_id = tostring(n) } } },
                 usage = { input_tokens = 1, output_tokens = 2 } }
      end),
      tools = { lookup_order = lookup_tool() },
    }
    local ex = agent:start("loop")
    assert.equal("FAILED", ex:wait())
    assert.equal("Agent.MaxStepsExceeded", ex.error)
    local c = cause_of(ex)
    assert.equal("the agent called the model 3 times (max_steps) without a final answer", c.message)
    assert.equal("step 3", c.partial)
    assert.equal(3, c.steps)
    assert.same({ input_tokens = 3, output_tokens = 6, cache_read_tokens = 0, cache_write_tokens = 0 }, c.usage)
    assert.equal(7, #c.transcript)
    assert.equal("AgentInvocationFailed", types(ex)[#types(ex)])
    local ok, err = pcall(agent.invoke, agent, "again")
    assert.is_false(ok)
    assert.equal("Agent.MaxStepsExceeded", err.code)
    assert.equal("the agent called the model 3 times (max_steps) without a final answer", json.decode(err.message).message)
  end)

  it("ends with Agent.MaxTokensExceeded over the invocation, and when a turn is cut", function()
    local e = engine()
    local agent = e:agent {
      max_tokens = 100,
      model = scripted {
        { tool_calls = { { id = "a", name = "lookup_order", arguments = { order_id = "1" } } }, usage = { input_tokens = 5, output_tokens = 60 } },
        { tool_calls = { { id = "b", name = "lookup_order", arguments = { order_id = "2" } } }, usage = { input_tokens = 5, output_tokens = 60 } },
      },
      tools = { lookup_order = lookup_tool() },
    }
    local ex = agent:start("go")
    assert.equal("FAILED", ex:wait())
    assert.equal("Agent.MaxTokensExceeded", ex.error)
    assert.equal("the invocation used 120 output tokens, over its max_tokens 100", cause_of(ex).message)
    local cut = e:agent { model = scripted { { text = "half an answ", stop_reason = "max_tokens", usage = { output_tokens = 9 } } } }
    local ex2 = cut:start("go")
    ex2:wait()
    assert.equal("Agent.MaxTokensExceeded", ex2.error)
    assert.equal("half an answ", cause_of(ex2).partial)
  end)

  it("ends with Agent.Timeout after timeout_seconds (virtual clock)", function()
    local e = engine()
    local agent = e:agent {
      timeout_seconds = 30,
      model = scripted { { tool_calls = { { id = "w", name = "wait", arguments = {} } } } },
      tools = { wait = { description = "never answers", handler = function() return orchestra.pending end } },
    }
    local ex = agent:start("go")
    e:step()
    assert.equal("RUNNING", ex.status)
    assert.equal(1, e:stats().pending_tasks) -- the tool call, left pending
    -- nothing else can happen: the virtual clock jumps to the timeout
    assert.equal("FAILED", ex:wait())
    assert.equal("Agent.Timeout", ex.error)
    assert.equal(30000, e:now() - START)
    assert.equal("the invocation ran longer than timeout_seconds (30 s)", cause_of(ex).message)
    assert.equal(0, e:stats().pending_tasks) -- the tool call was dropped
  end)

  it("repairs structured output once, then ends with Agent.InvalidOutput", function()
    local schema = { type = "object", properties = { city = { type = "string" } }, required = { "city" } }
    local e = engine()
    local seen
    local fixed = e:agent {
      output_schema = schema,
      model = orchestra.models.scripted(function(messages)
        if #messages == 1 then return { text = "Paris, I think" } end
        seen = messages[#messages].content[1].text
        return { text = '```json\n{"city": "Paris"}\n```' }
      end),
    }
    local out = fixed:invoke("Where?")
    assert.same({ city = "Paris" }, out.structured)
    assert.matches("the answer is not JSON", seen, 1, true)
    assert.matches('"required":["city"]', seen, 1, true)
    local never = e:agent {
      output_schema = schema,
      model = scripted { { text = '{"town": "Lyon"}' }, { text = '{"city": 5}' } },
    }
    local ex = never:start("Where?")
    assert.equal("FAILED", ex:wait())
    assert.equal("Agent.InvalidOutput", ex.error)
    assert.equal("the answer does not match the schema: /city: expected string, got integer (after one repair round trip)",
      cause_of(ex).message)
    assert.equal(2, cause_of(ex).steps)
  end)

  it("ends a loop of identical tool calls with Agent.RepeatedToolCall", function()
    local e = engine()
    local agent = e:agent {
      max_repeated_calls = 3,
      model = orchestra.models.scripted(function()
        return { tool_calls = { { id = "same", name = "lookup_order", arguments = { order_id = "42" } } } }
      end),
      tools = { lookup_order = lookup_tool() },
    }
    local ex = agent:start("go")
    assert.equal("FAILED", ex:wait())
    assert.equal("Agent.RepeatedToolCall", ex.error)
    assert.equal("the model called tool 'lookup_order' 3 times in a row with the same arguments", cause_of(ex).message)
    assert.equal(2, #events_of(ex, "ToolCallSucceeded")) -- the third call never ran
  end)

  it("fails with Agent.ModelError when a scripted list runs out or a model function raises", function()
    local e = engine()
    local agent = e:agent { model = scripted { { tool_calls = { { id = "a", name = "lookup_order", arguments = { order_id = "1" } } } } },
                            tools = { lookup_order = lookup_tool() } }
    local ok, err = pcall(agent.invoke, agent, "go")
    assert.is_false(ok)
    assert.equal("Agent.ModelError", err.code)
    assert.equal("the scripted model has no turn 2 (it has 1)", json.decode(err.message).message)
    local bad = e:agent { model = orchestra.models.scripted(function() error("no model today") end) }
    ok, err = pcall(bad.invoke, bad, "go")
    assert.equal("Agent.ModelError", err.code)
    assert.matches("States.TaskFailed: .*no model today", json.decode(err.message).message)
    local malformed = e:agent { model = orchestra.models.scripted(function() return { tool_calls = { { id = "x" } } } end) }
    ok, err = pcall(malformed.invoke, malformed, "go")
    assert.equal("Agent.ModelError", err.code)
    assert.equal("tool call 1 of the model's turn has no name", json.decode(err.message).message)
  end)

  it("ends with named errors a state machine's Catch can match", function()
    local e = engine()
    local looper = e:agent { name = "looper", max_steps = 1, model = orchestra.models.scripted(function()
      return { tool_calls = { { id = "a", name = "x", arguments = {} } } } end) }
    local m = e:load({ StartAt = "Ask", States = {
      Ask = { Type = "Task", Resource = "r", Catch = { { ErrorEquals = { "Agent.MaxStepsExceeded" }, Next = "Caught" } }, End = true },
      Caught = { Type = "Pass", Parameters = { ["error.$"] = "$.Error" }, End = true } } })
    e:handler("r", function()
      -- a handler that runs the agent and passes its error on
      local ax = looper:start("go")
      while ax.status == "RUNNING" do coroutine.yield() end
      if ax.status ~= "SUCCEEDED" then error({ Error = ax.error, Cause = ax.cause }) end
      return ax.output.text
    end)
    local ex = m:start({})
    ex:wait()
    assert.same({ error = "Agent.MaxStepsExceeded" }, ex.output)
  end)
end)

describe("return of control", function()
  it("leaves the execution RUNNING with the pending calls, and resumes with their results", function()
    local e = engine()
    local seen
    local agent = e:agent {
      model = orchestra.models.scripted(function(messages)
        if #messages == 1 then
          return { text = "I need approval.", tool_calls = {
            { id = "r1", name = "approve", arguments = { amount = 30 } },
            { id = "r2", name = "approve", arguments = { amount = 70 } },
            { id = "l1", name = "lookup_order", arguments = { order_id = "5" } } } }
        end
        seen = messages[#messages].content
        return { text = "approved" }
      end),
      tools = {
        approve = { description = "a human approves", schema = { type = "object", properties = { amount = { type = "number", maximum = 100 } } } },
        lookup_order = lookup_tool(),
      },
    }
    local ex = agent:start("refund")
    local status, why = ex:wait()
    assert.equal("RUNNING", status)
    assert.equal("waiting for tool results (return of control): tool 'approve' has no handler; answer the calls of ex:pending_tools() with ex:resume{[id] = result}", why)
    local pending = ex:pending_tools()
    assert.equal(2, #pending)
    assert.same({ "r1", "approve", 30 }, { pending[1].id, pending[1].name, pending[1].arguments.amount })
    assert.equal("r2", pending[2].id)
    assert.equal("string", type(pending[1].token))
    assert.has_error(function() ex:resume({ nope = 1 }) end,
      "ex:resume: no pending tool call has the id 'nope' (see ex:pending_tools())")
    ex:resume({ r1 = { approved = true } })
    assert.equal("RUNNING", (ex:wait()))
    assert.equal(1, #ex:pending_tools())
    e:task_success(ex:pending_tools()[1].token, { approved = false })
    assert.equal("SUCCEEDED", ex:wait())
    assert.same({ approved = true }, seen[1].content)
    assert.same({ approved = false }, seen[2].content)
    assert.same({ id = "5", status = "shipped" }, seen[3].content)
    assert.same({}, ex:pending_tools())
  end)

  it("agent:invoke raises Agent.PendingTools with the execution", function()
    local e = engine()
    local agent = e:agent {
      model = scripted { { tool_calls = { { id = "r", name = "approve", arguments = {} } } }, { text = "thanks" } },
      tools = { approve = { description = "ask" } },
    }
    local ok, err = pcall(agent.invoke, agent, "go")
    assert.is_false(ok)
    assert.equal("Agent.PendingTools", err.code)
    err.execution:resume({ r = "yes" })
    assert.equal("SUCCEEDED", err.execution:wait())
    assert.equal("thanks", err.execution.output.text)
  end)
end)

describe("sessions", function()
  it("remember the conversation and the attributes tools write", function()
    local e = engine()
    local lengths = {}
    local agent = e:agent {
      name = "memo",
      model = orchestra.models.scripted(function(messages, _, ctx)
        lengths[#lengths + 1] = #messages
        if messages[#messages].role == "user" and messages[#messages].content[1].type == "text" then
          return { tool_calls = { { id = "n" .. #messages, name = "count", arguments = {} } } }
        end
        return { text = "visits: " .. tostring(ctx.session.visits) }
      end),
      tools = { count = { description = "counts visits", handler = function(_, ctx)
        ctx.session.visits = (ctx.session.visits or 0) + 1
        return ctx.session.visits
      end } },
    }
    assert.equal("visits: 1", agent:invoke("hello", { session = "user-7" }).text)
    assert.equal("visits: 2", agent:invoke("again", { session = "user-7" }).text)
    assert.equal("visits: 1", agent:invoke("other", { session = "user-8" }).text)
    assert.same({ 1, 3, 5, 7, 1, 3 }, lengths)
    local s = agent:session("user-7")
    assert.equal(8, #s.messages)
    assert.equal("again", s.messages[5].content[1].text)
    assert.same({ visits = 2 }, s.attributes)
    agent:clear_session("user-7")
    assert.is_nil(agent:session("user-7"))
    assert.is_nil(agent:session("never"))
    assert.equal("visits: 1", agent:invoke("fresh", { session = "user-7" }).text)
  end)
end)

describe("machines and agents as tools", function()
  it("runs a machine as a tool, linking the histories both ways", function()
    local e = engine()
    local m = e:load({ StartAt = "Refund", States = { Refund = { Type = "Pass", Parameters = { ["refunded.$"] = "$.amount" }, End = true } } },
      { name = "refund" })
    local agent = e:agent {
      name = "cashier",
      model = scripted {
        { tool_calls = { { id = "m1", name = "refund", arguments = { amount = 12 } } } },
        { text = "refunded" },
      },
      tools = { refund = m },
    }
    local ex = agent:start("refund 12")
    assert.equal("SUCCEEDED", ex:wait())
    assert.same({ refunded = 12 }, ex.output.transcript[3].content[1].content)
    local done = events_of(ex, "ToolCallSucceeded")[1]
    assert.matches(":execution:refund:", done.childExecutionArn, 1, true)
    local kids = ex:children()
    assert.equal(1, #kids)
    assert.equal(done.childExecutionArn, kids[1].arn)
    assert.equal(ex.arn, kids[1].parent_arn)
    assert.equal("SUCCEEDED", kids[1].status)
    assert.same({ refunded = 12 }, kids[1].output)
  end)

  it("a failing machine is an error result the model sees", function()
    local e = engine()
    local m = e:load({ StartAt = "F", States = { F = { Type = "Fail", Error = "Refund.Denied", Cause = "too late" } } }, { name = "deny" })
    local seen
    local agent = e:agent {
      model = orchestra.models.scripted(function(messages)
        if #messages == 1 then return { tool_calls = { { id = "d", name = "deny", arguments = {} } } } end
        seen = messages[3].content[1]
        return { text = "denied" }
      end),
      tools = { deny = m },
    }
    assert.equal("denied", agent:invoke("go").text)
    assert.is_true(seen.is_error)
    assert.matches("Refund.Denied", seen.content, 1, true)
  end)

  it("runs another agent as a tool (supervisor and specialist)", function()
    local e = engine()
    local specialist = e:agent { name = "specialist", model = orchestra.models.scripted(function(messages)
      return { text = "specialist says: " .. messages[1].content[1].text }
    end) }
    local boss = e:agent {
      name = "boss",
      model = scripted {
        { tool_calls = { { id = "s", name = "ask_specialist", arguments = { prompt = "what is 2+2?" } } } },
        { text = "done" },
      },
      tools = { ask_specialist = specialist },
    }
    local ex = boss:start("help")
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal("specialist says: what is 2+2?", ex.output.transcript[3].content[1].content)
    local child = events_of(ex, "ToolCallSucceeded")[1].childExecutionArn
    assert.matches(":execution:specialist:", child, 1, true)
  end)
end)

describe("agent options", function()
  it("rejects unknown options and bad values with clear errors", function()
    local e = engine()
    local m = scripted { { text = "x" } }
    assert.has_error(function() e:agent { model = m, max_step = 3 } end,
      "engine:agent: unknown option 'max_step' (options: budget_usd, instructions, max_repeated_calls, max_steps, max_tokens, model, name, output_schema, retry, temperature, timeout_seconds, tools)")
    assert.has_error(function() e:agent { } end, "engine:agent: option 'model' is required: an orchestra.models.* value")
    assert.has_error(function() e:agent { model = m, tools = { t = { handler = 1 } } } end,
      "engine:agent: tool 't': option 'handler' must be a function, not number")
    assert.has_error(function() e:agent { model = m, tools = { t = { descr = "x" } } } end,
      "engine:agent: tool 't': unknown option 'descr' (options: description, handler, schema)")
    assert.has_error(function() orchestra.models.openai { model = "m", key = "k" } end,
      "orchestra.models.openai: unknown option 'key' (options: api_key, base_url, model, timeout_ms)")
    assert.has_error(function() orchestra.models.bedrock { region = "us-east-1" } end,
      "orchestra.models.bedrock: option 'model_id' is required")
    assert.has_error(function() orchestra.models.scripted { turn = {} } end,
      "orchestra.models.scripted: unknown option 'turn' (options: turns, fn, model)")
    local a = e:agent { model = m }
    assert.has_error(function() a:start("x", { sesion = "a" }) end, "agent:start: unknown option 'sesion' (session, name, budget_usd)")
    local ok, err = pcall(e.agent, e, { name = "Agent", model = m })
    assert.is_false(ok)
    assert.equal("InvalidAgent", err.code)
    assert.equal("engine:agent: an agent named 'Agent' exists already in this engine", err.message)
    ok, err = pcall(e.agent, e, { model = m, tools = { ["bad name"] = { description = "x" } } })
    assert.equal("engine:agent: tool name 'bad name' must be 1 to 64 letters, digits, _ or -", err.message)
    ok, err = pcall(e.agent, e, { model = m, tools = { t = { schema = { type = "strnig" } } } })
    assert.matches("tool 't': schema:", err.message, 1, true)
    assert.equal("Agent-2", e:agent { model = m }.name)
    ok, err = pcall(e.agent, e, { model = orchestra.models.anthropic { model = "claude", base_url = "http://127.0.0.1:1" } })
    if not os.getenv("ANTHROPIC_API_KEY") then
      assert.is_false(ok)
      assert.matches("ANTHROPIC_API_KEY", err.message, 1, true)
    end
  end)
end)

-- {====== providers over HTTP

local MS = require "spec.support.model_server"

local AWS = { access_key_id = "AKIDEXAMPLEORCH", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
              session_token = "SESSIONTOKENEXAMPLE", region = "us-west-2" }
local OPENAI_KEY = "sk-orchestra-secret-0123456789"
local ANTHROPIC_KEY = "sk-ant-orchestra-secret-9876543210"

describe("agents against the model server", function()
  local srv
  setup(function() srv = MS.start(h.ROOT) end)
  teardown(function() if srv then srv:stop() end end)
  before_each(function()
    srv:reset({ api_key = OPENAI_KEY, anthropic_key = ANTHROPIC_KEY, aws = AWS })
  end)

  -- Bedrock credentials come from the environment only: run such agents in
  -- a child process with them set.
  local function model_for(kind, extra)
    extra = extra or {}
    if kind == "openai" then
      return orchestra.models.openai { base_url = srv.url .. "/v1", model = "gpt-4o-mini", api_key = extra.key or OPENAI_KEY, timeout_ms = extra.timeout_ms }
    elseif kind == "anthropic" then
      return orchestra.models.anthropic { base_url = srv.url, model = "claude-sonnet-4-5", api_key = extra.key or ANTHROPIC_KEY, timeout_ms = extra.timeout_ms }
    end
  end

  local function two_calls_then_answer()
    srv:enqueue({
      { turn = { text = "Checking both.", tool_calls = {
          { id = "t1", name = "lookup_order", arguments = { order_id = "42" } },
          { id = "t2", name = "lookup_order", arguments = { order_id = "43" } } },
        stop = "tool_use", usage = { input = 120, output = 30, cache_read = 7 } } },
      { turn = { text = "Both have shipped.", stop = "end_turn", usage = { input = 200, output = 8 } } },
    })
  end

  for _, kind in ipairs { "openai", "anthropic" } do
    it(kind .. ": a round trip with two tool calls in one turn", function()
      two_calls_then_answer()
      local e = engine()
      local ran = {}
      local agent = e:agent { name = "shop", model = model_for(kind), instructions = "Answer briefly.", max_tokens = 1000,
                              temperature = 0, tools = { lookup_order = lookup_tool(ran) } }
      local ex = agent:start("Where are 42 and 43?")
      assert.equal("SUCCEEDED", ex:wait())
      assert.equal("Both have shipped.", ex.output.text)
      assert.same({ "42", "43" }, ran)
      assert.equal(320, ex.output.usage.input_tokens)
      assert.equal(38, ex.output.usage.output_tokens)
      assert.equal(7, ex.output.usage.cache_read_tokens)
      local reqs = srv:requests()
      assert.equal(2, #reqs)
      for _, r in ipairs(reqs) do
        assert.equal(kind, r.provider)
        assert.equal(orchestra.null, r.problem)
      end
      local text = json.encode(reqs[2].body)
      assert.matches("Answer briefly.", text, 1, true)
      assert.matches("shipped", text, 1, true) -- the tool results went back
      local ev = events_of(ex, "ModelCallSucceeded")[1]
      assert.equal(kind, ev["gen_ai.provider.name"])
      assert.equal(kind == "openai" and "gpt-4o-mini" or "claude-sonnet-4-5", ev["gen_ai.request.model"])
      assert.same({ "tool_use" }, ev["gen_ai.response.finish_reasons"])
    end)
  end

  it("bedrock: a signed round trip with two tool calls (credentials from AWS_* env)", function()
    two_calls_then_answer()
    local script = [[
      local orchestra = require "orchestra"
      local e = orchestra.engine { clock = "virtual" }
      local agent = e:agent { name = "shop", model = orchestra.models.bedrock { region = "us-west-2",
          model_id = "anthropic.claude-3-5-haiku-20241022-v1:0", endpoint_url = arg[1] },
        tools = { lookup_order = { description = "find", schema = { type = "object", properties = { order_id = { type = "string" } } },
                                   handler = function(a) return { id = a.order_id, status = "shipped" } end } } }
      local ex = agent:start("Where are 42 and 43?")
      ex:wait()
      io.write(ex.status, "|", tostring(ex.output and ex.output.text or ex.cause), "|", ex:history_json(), "\n")
    ]]
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write(script)
    f:close()
    local env = string.format("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s ",
      AWS.access_key_id, h.shell_quote(AWS.secret_access_key), AWS.session_token)
    local status, out, err = h.run(env .. h.lua_env() .. h.LUA .. " " .. path .. " " .. srv.url)
    os.remove(path)
    assert.equal(0, status, err)
    local st, text, hist = out:match("^([^|]*)|([^|]*)|(.*)$")
    assert.equal("SUCCEEDED", st, out)
    assert.equal("Both have shipped.", text)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    for _, r in ipairs(reqs) do
      assert.equal("bedrock", r.provider)
      assert.equal("ok", r.signature)
      assert.equal("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse", r.path)
    end
    assert.is_nil(hist:find(AWS.secret_access_key, 1, true))
    assert.is_nil(hist:find(AWS.session_token, 1, true))
    assert.matches('"gen_ai.provider.name":"aws.bedrock"', hist, 1, true)
  end)

  local function fault_case(steps, opts)
    srv:enqueue(steps)
    local e = engine()
    local agent = e:agent { model = model_for("openai", opts), retry = opts and opts.retry or { max_attempts = 3, base_ms = 500, max_ms = 5000 } }
    local ex = agent:start("hi")
    ex:wait()
    return ex, e
  end

  local ANSWER = { turn = { text = "fine", stop = "end_turn", usage = { input = 1, output = 1 } } }

  it("retries 429 honouring Retry-After under the virtual clock", function()
    local ex, e = fault_case({ { fault = "status", status = 429, message = "slow down", headers = { ["Retry-After"] = "3" } }, ANSWER })
    assert.equal("SUCCEEDED", ex.status)
    assert.equal("fine", ex.output.text)
    local failed = events_of(ex, "ModelCallFailed")[1]
    assert.equal(429, failed.status)
    assert.equal(3000, failed.retryInMs)
    assert.matches("slow down", failed.cause, 1, true)
    assert.is_true(e:now() - START >= 3000)
    local started = events_of(ex, "ModelCallStarted")
    assert.same({ 1, 2 }, { started[1].attempt, started[2].attempt })
  end)

  for _, status in ipairs { 500, 503, 529 } do
    it("retries a " .. status .. " with back-off", function()
      local ex = fault_case({ { fault = "status", status = status, message = "busy" }, ANSWER })
      assert.equal("SUCCEEDED", ex.status)
      local failed = events_of(ex, "ModelCallFailed")[1]
      assert.equal(status, failed.status)
      assert.is_true(failed.retryInMs >= 375 and failed.retryInMs <= 500, tostring(failed.retryInMs))
    end)
  end

  it("gives up after max_attempts with Agent.ModelError naming the status", function()
    local busy = { fault = "status", status = 503, message = "overloaded now" }
    local ex = fault_case({ busy, busy, busy })
    assert.equal("FAILED", ex.status)
    assert.equal("Agent.ModelError", ex.error)
    local msg = json.decode(ex.cause).message
    assert.matches("503", msg, 1, true)
    assert.matches("overloaded now", msg, 1, true)
    assert.matches("attempt 3", msg, 1, true)
    assert.equal(3, #events_of(ex, "ModelCallFailed")) -- two retried, one final
  end)

  it("does not retry a 400", function()
    local ex = fault_case({ { fault = "status", status = 400, message = "bad request body" }, ANSWER })
    assert.equal("Agent.ModelError", ex.error)
    assert.matches("bad request body", json.decode(ex.cause).message, 1, true)
    assert.equal(1, #srv:requests())
  end)

  it("times out a slow first byte and retries", function()
    local ex = fault_case({ { turn = ANSWER.turn, delay_ms = 2000 }, ANSWER }, { timeout_ms = 300 })
    assert.equal("SUCCEEDED", ex.status)
    local failed = events_of(ex, "ModelCallFailed")[1]
    assert.matches("[Tt]imeout", failed.cause)
  end)

  it("a slow first byte with one attempt is Agent.ModelError (Timeout)", function()
    local ex = fault_case({ { turn = ANSWER.turn, delay_ms = 2000 } }, { timeout_ms = 300, retry = { max_attempts = 1 } })
    assert.equal("Agent.ModelError", ex.error)
    assert.matches("Timeout", json.decode(ex.cause).message, 1, true)
  end)

  for _, fault in ipairs { "malformed", "truncated", "drop" } do
    it("names a " .. fault .. " response and what the agent does", function()
      local ex = fault_case({ { fault = fault }, ANSWER }, { retry = { max_attempts = 1 } })
      assert.equal("FAILED", ex.status)
      assert.equal("Agent.ModelError", ex.error)
      local msg = json.decode(ex.cause).message
      local want = ({ malformed = "MalformedResponse", truncated = "TruncatedResponse", drop = "ConnectionDropped" })[fault]
      assert.matches(want, msg, 1, true)
      if fault ~= "malformed" then -- retryable: a second attempt succeeds
        srv:reset({ api_key = OPENAI_KEY })
        local ex2 = fault_case({ { fault = fault }, ANSWER })
        assert.equal("SUCCEEDED", ex2.status)
      end
    end)
  end

  it("keeps keys out of the history, errors and output", function()
    srv:reset({ api_key = "the-server-wants-another-key", anthropic_key = ANTHROPIC_KEY })
    local e = engine()
    local agent = e:agent { model = model_for("openai"), retry = { max_attempts = 1 } }
    local ex = agent:start("hi")
    ex:wait()
    assert.equal("Agent.ModelError", ex.error)
    local all = ex:history_json() .. (ex.cause or "") .. (ex.error or "")
    assert.is_nil(all:find(OPENAI_KEY, 1, true))
    assert.matches("401", ex.cause, 1, true)
    -- a successful run too
    srv:reset({ api_key = OPENAI_KEY, anthropic_key = ANTHROPIC_KEY })
    two_calls_then_answer()
    local a2 = e:agent { model = model_for("anthropic"), tools = { lookup_order = lookup_tool() } }
    local ex2 = a2:start("x")
    ex2:wait()
    assert.equal("SUCCEEDED", ex2.status)
    local text = ex2:history_json() .. json.encode(ex2.output)
    assert.is_nil(text:find(ANTHROPIC_KEY, 1, true))
    assert.is_nil(text:find(OPENAI_KEY, 1, true))
    -- the requests did carry them
    local reqs = srv:requests()
    assert.equal(ANTHROPIC_KEY, reqs[1].headers["x-api-key"])
  end)

  it("reads the key from OPENAI_API_KEY when api_key is not given (child process)", function()
    srv:enqueue({ ANSWER })
    local script = [[
      local orchestra = require "orchestra"
      local e = orchestra.engine {}
      local a = e:agent { model = orchestra.models.openai { base_url = arg[1] .. "/v1", model = "m" } }
      local ok, out = pcall(a.invoke, a, "hi")
      io.write(ok and out.text or tostring(out.message))
    ]]
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write(script)
    f:close()
    local status, out, err = h.run("OPENAI_API_KEY=" .. OPENAI_KEY .. " " .. h.lua_env() .. h.LUA .. " " .. path .. " " .. srv.url)
    os.remove(path)
    assert.equal(0, status, err)
    assert.equal("fine", out)
    assert.is_nil((out .. err):find(OPENAI_KEY, 1, true))
  end)

  it("runs many invocations at once under the real clock without busy waiting", function()
    local steps = {}
    for i = 1, 20 do steps[i] = { turn = { text = "ok " .. i, stop = "end_turn" }, delay_ms = 100 } end
    srv:enqueue(steps)
    local e = orchestra.engine {}
    local agent = e:agent { model = model_for("openai") }
    local exs = {}
    for i = 1, 20 do exs[i] = agent:start("q" .. i) end
    local c0, t0 = os.clock(), orchestra.monotonic()
    e:run()
    while e:running() > 0 do e:run() end
    local cpu, wall = os.clock() - c0, orchestra.monotonic() - t0
    for i = 1, 20 do assert.equal("SUCCEEDED", exs[i].status) end
    assert.is_true(wall >= 0.09, tostring(wall))
    assert.is_true(cpu < wall * 0.8 + 0.05, ("cpu %.3f s over wall %.3f s"):format(cpu, wall))
  end)
end)

-- }======
