-- The cost model: the catalog, the arithmetic against hand-computed
-- values, measured costs of real executions, scenarios, comparisons,
-- sensitivity, charts (rendered by rsvg-convert), simulation and the
-- command line.
local h = require "spec.helper"
local orchestra = require "orchestra"
local cost = orchestra.cost
local json = orchestra.json

local function near(expected, actual, tol)
  tol = tol or 1e-12 * math.max(1, math.abs(expected))
  assert(math.abs(expected - actual) <= tol,
    ("expected %.17g, got %.17g"):format(expected, actual))
end

local function raises(fn, code, pointer, message)
  local ok, e = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.equal("table", type(e), tostring(e))
  assert.equal(code, e.code)
  if pointer then assert.equal(pointer, e.pointer) end
  if message then assert.matches(message, e.message, 1, true) end
  return e
end

after_each(function() cost.reset_catalog() end)

describe("the price catalog", function()
  it("names a source and a date for every entry, and flags disputed figures", function()
    local doc = json.decode(h.read(h.ROOT .. "/data/prices.json"))
    for key, m in pairs(doc.models) do
      assert.is_string(m.source, key)
      assert.matches("^%d%d%d%d%-%d%d%-%d%d$", m.as_of, key)
    end
    for key, item in pairs(doc.agentcore) do
      assert.is_string(item.source, key)
      assert.is_string(item.as_of, key)
    end
    for _, k in ipairs({ "standard", "express" }) do
      assert.is_string(doc.step_functions[k].source)
      assert.is_string(doc.step_functions[k].as_of)
    end
    -- sources disagree: the catalog says so and the lookup reports it
    assert.is_false(cost.catalog():model("mistral.mistral-large-2402-v1:0").confirmed)
    assert.is_false(cost.catalog():model("claude-3-5-sonnet-v2").confirmed)
    assert.is_true(cost.catalog():model("claude-sonnet-4-6").confirmed)
    -- the higher Express tiers are not confirmed by the stored material
    assert.is_false(doc.step_functions.express.gb_second_tiers[2].confirmed)
  end)

  it("finds models by key and alias, in USD per token", function()
    local m = cost.catalog():model("claude-3-5-sonnet")
    assert.equal("anthropic.claude-3-5-sonnet-20240620-v1:0", m.key)
    near(3e-6, m.input)
    near(15e-6, m.output)
    near(0.3e-6, m.cache_read)
    near(0.5, m.batch_discount)
    raises(function() cost.catalog():model("gpt-9") end, "UnknownModel", nil,
      "model 'gpt-9' has no price in the catalog")
  end)

  it("is extended and overridden from Lua, and left as it was by a bad document", function()
    cost.catalog { models = { ["my-model"] = { input_per_million = 1, output_per_million = 2,
      source = "our contract", as_of = "2026-12-01" } } }
    near(1e-6 * 1000 + 2e-6 * 100, cost.catalog():tokens("my-model", { input = 1000, output = 100 }))
    -- an override of one field keeps the others
    cost.catalog { models = { ["gpt-4o"] = { input_per_million = 2 } } }
    near(2e-6, cost.catalog():model("gpt-4o").input)
    near(10e-6, cost.catalog():model("gpt-4o").output)
    local e = raises(function()
      cost.catalog { models = { broken = { input_per_million = "3", output_per_million = 1 } } }
    end, "InvalidCatalog", "/models/broken/input_per_million")
    assert.equal("/models/broken/input_per_million: must be a number, not string", e.message)
    raises(function() cost.catalog():model("broken") end, "UnknownModel")
    raises(function()
      cost.catalog { step_functions = { express = { gb_second_tiers = {} } } }
    end, "InvalidCatalog", "/step_functions/express/gb_second_tiers")
    raises(function()
      cost.catalog { step_functions = { standard = { regions = { ["eu-west-3"] = -1 } } } }
    end, "InvalidCatalog", "/step_functions/standard/regions/eu-west-3")
    cost.reset_catalog()
    raises(function() cost.catalog():model("my-model") end, "UnknownModel")
  end)

  it("reads a price file (--prices) and says which file is bad", function()
    local dir = h.tmpdir()
    h.write(dir .. "/p.json", '{"step_functions": {"standard": {"per_1000_transitions": 0.05}}}')
    cost.load_prices(dir .. "/p.json")
    near(0.0005, cost.catalog():standard(10))
    h.write(dir .. "/bad.json", '{"models": [1]}')
    local e = raises(function() cost.load_prices(dir .. "/bad.json") end, "InvalidCatalog", "/models")
    assert.matches("bad.json: /models: must be an object", e.message, 1, true)
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)
end)

describe("the arithmetic", function()
  local C
  before_each(function() C = cost.catalog() end)

  it("prices Standard transitions, the free tier and regions", function()
    assert.equal(0.00025, C:standard(10))
    assert.equal(0.25, C:standard(10 * 1000))
    assert.equal(0.125, C:standard(5 * 1000))
    assert.equal(25.0, C:standard(1000000))
    -- 10,000 transitions less the 4,000 free ones: 6,000 x $0.000025
    assert.equal(0.15, C:standard(10000, true))
    assert.equal(0, C:standard(3999, true))
    assert.equal(0.0279, C:standard(1000, false, "us-west-1"))
    assert.equal(0.0375, C:standard(1000, false, "sa-east-1"))
    raises(function() C:standard(1, false, "mars-1") end, "InvalidScenario", nil,
      "region 'mars-1' has no Step Functions price")
  end)

  it("prices Express: requests, 100 ms rounding, 64-MB chunks and tiers", function()
    -- 1e-6 + 0.0625 GB x 1 s x $0.0000166667 = 2.04166875e-6
    near(2.04166875e-6, C:express(1, 1000, 64), 1e-20)
    -- 1,001 ms bills 1,100 ms; 65 MB bills two chunks (128 MB)
    near(1e-6 + 11 * 104166875e-15, C:express(1, 1001, 64), 1e-20)
    near(1e-6 + 2 * 10 * 104166875e-15, C:express(1, 1000, 65), 1e-20)
    near(1e-6 + 10 * 104166875e-15, C:express(1, 901, 1), 1e-20)
    -- 2,000 GB-hours in a month (115.2M runs of 1 s at 64 MB): the first
    -- 1,000 at $0.0000166667/GB-s, the next at $0.0000083333
    near(115.2 + 3.6e6 * 0.0000166667 + 3.6e6 * 0.0000083333, C:express(115200000, 1000, 64), 1e-6)
  end)

  it("prices tokens by kind, cache and batch", function()
    local t = { input = 10000, output = 2500 }
    assert.equal(0.0675, C:tokens("claude-3-5-sonnet", t))
    assert.equal(0.03375, C:tokens("claude-3-5-sonnet", t, true))
    assert.equal(0.09, C:tokens("claude-3-5-sonnet", { input = 17500, output = 2500 }))
    assert.equal(0.135, C:tokens("claude-3-5-sonnet-v2", t))
    -- half the input read from the cache at 0.1 x, 1,000 tokens written at 1.25 x
    near(5000 * 3e-6 + 5000 * 0.3e-6 + 1000 * 3.75e-6 + 2500 * 15e-6,
      C:tokens("claude-sonnet-4", { input = 5000, cache_read = 5000, cache_write = 1000, output = 2500 }))
    raises(function() C:tokens("claude-3-haiku", { input = 1, cache_read = 10 }) end,
      "InvalidScenario", nil, "has no cache read price")
    raises(function() C:tokens("meta.llama3-3-70b-instruct-v1:0", t, true) end,
      "InvalidScenario", nil, "has no batch discount")
    -- the bound a budget checks before a call: input + max_tokens of output
    assert.equal(2000 * 3e-6 + 4096 * 15e-6, C:call_bound("claude-3-5-sonnet", 2000, 4096))
  end)

  it("summarizes values with nearest-rank percentiles", function()
    local v = {}
    for i = 100, 1, -1 do v[#v + 1] = i end
    local s = orchestra.cost and require("orchestra.core").cost_summarize(v)
    assert.equal(50.5, s.mean)
    assert.equal(50, s.p50)
    assert.equal(95, s.p95)
    assert.equal(99, s.p99)
    assert.equal(1, s.min)
    assert.equal(100, s.max)
  end)
end)

describe("scenarios", function()
  local agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500 }

  it("price an agent per execution and per month", function()
    local s = cost.scenario { name = "agent", executions = 1000, agent = agent }
    assert.equal(0.0675, s.per_execution.total)
    assert.equal(67.5, s.monthly.total)
    assert.equal(67.5, s.monthly.subtotals.models)
    assert.equal(10000000, s.monthly.lines[1].units)
    assert.equal(30.0, s.monthly.lines[1].usd)
    assert.equal(37.5, s.monthly.lines[2].usd)
    assert.matches("NOT CONFIRMED", table.concat(s.assumptions, "\n"), 1, true)
    assert.matches("total: $67.50", s:table(), 1, true)
    assert.matches("monthly,total,,,,,67.5", s:csv(), 1, true)
    assert.equal(67.5, json.decode(s:json()).monthly.total)
  end)

  it("grow the context per step, read the cache and batch", function()
    -- inputs 2,000 + 2,500 + 3,000 + 3,500 + 4,000 = 15,000
    local g = cost.scenario { agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000,
      output_tokens = 500, context_growth = 500 } }
    near(0.0825, g.per_execution.total)
    local c = cost.scenario { agent = { model = "claude-sonnet-4", steps = 5, input_tokens = 2000,
      output_tokens = 500, cache_hit_rate = 0.8, cache_write_rate = 0.1 } }
    near(1000 * 3e-6 + 8000 * 0.3e-6 + 1000 * 3.75e-6 + 2500 * 15e-6, c.per_execution.total)
    local b = cost.scenario { agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000,
      output_tokens = 500, batch = true } }
    assert.equal(0.03375, b.per_execution.total)
  end)

  it("price workflows, with the free tier in monthly totals only, and hybrids", function()
    local s = cost.scenario { executions = 1000, workflow = { transitions = 10 } }
    assert.equal(0.00025, s.per_execution.total)
    assert.equal(0.15, s.monthly.total)
    s = cost.scenario { executions = 1000, workflow = { transitions = 10, free_tier = false } }
    assert.equal(0.25, s.monthly.total)
    s = cost.scenario { executions = 1000, workflow = { type = "EXPRESS", duration_ms = 250, memory_mb = 100 } }
    -- 300 ms x 2 chunks = 6 units of 64 MB x 100 ms
    near(1e-6 + 6 * 104166875e-15, s.per_execution.total, 1e-20)
    -- a workflow with 2 agent states
    s = cost.scenario { executions = 100, workflow = { transitions = 12, free_tier = false },
      agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500, invocations = 2 } }
    near(12 * 0.000025 + 2 * 0.0675, s.per_execution.total)
    near(100 * (12 * 0.000025 + 2 * 0.0675), s.monthly.total, 1e-9)
    local text = table.concat(s.assumptions, "\n")
    assert.matches("Standard workflow: 12 transitions per run", text, 1, true)
    assert.matches("2 invocation(s) per execution", text, 1, true)
    assert.matches("no free tier", text, 1, true)
  end)

  it("reject bad fields with their JSON pointer", function()
    raises(function() cost.scenario { agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 1,
      output_tokens = 1, cache_hit = 0.5 } } end, "InvalidScenario", "/agent/cache_hit", "unknown field")
    raises(function() cost.scenario { agent = { model = "nope", steps = 1, input_tokens = 1, output_tokens = 1 } } end,
      "InvalidScenario", "/agent/model", "model 'nope' has no price")
    raises(function() cost.scenario { workflow = { type = "EXPRESS" } } end,
      "InvalidScenario", "/workflow/duration_ms")
    raises(function() cost.scenario { workflow = { transitions = -1 } } end,
      "InvalidScenario", "/workflow/transitions", "non-negative")
    raises(function() cost.scenario { executions = 10 } end, "InvalidScenario", "",
      "needs a workflow, an agent or both")
    raises(function() cost.compare({ { workflow = { transitions = 1 } }, { workflow = {} } }) end,
      "InvalidScenario", "/1/workflow/transitions")
  end)
end)

describe("comparisons", function()
  it("find the break-even volume of Standard and Express (free tier included)", function()
    -- Standard: (10 V - 4,000) x $0.000025; Express: V x $0.00000204166875;
    -- equal at V = 0.1 / (0.00025 - 0.00000204166875) = 403.3
    local cmp = cost.compare({
      { name = "standard", workflow = { transitions = 10 } },
      { name = "express", workflow = { type = "EXPRESS", duration_ms = 1000 } },
    }, { volumes = { 100, 1000 } })
    assert.same({ "standard", "express" }, { cmp.options[1], cmp.options[2] })
    assert.equal(1, #cmp.break_even)
    local b = cmp.break_even[1]
    assert.equal(404, b.executions)
    assert.equal("standard", b.cheaper_below)
    assert.equal("express", b.cheaper_above)
    assert.equal(0, cmp.monthly[1][1])
    assert.equal(0.15, cmp.monthly[1][2])
    assert.matches("break-even: standard and express at 404 executions/month", cmp:table(), 1, true)
    assert.equal("executions,standard,express\n100,0,0.000204166875\n1000,0.15,0.00204166875\n", cmp:csv())
  end)

  it("say when there is no break-even", function()
    local cmp = cost.compare({
      { name = "agent", agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500 } },
      { name = "workflow", workflow = { transitions = 10, free_tier = false } },
    })
    assert.equal(0, #cmp.break_even)
    assert.matches("break-even: none", cmp:table(), 1, true)
    assert.same({ 1000, 10000, 100000, 1000000 }, { cmp.volumes[1], cmp.volumes[2], cmp.volumes[3], cmp.volumes[4] })
    assert.equal(67500.0, cmp.monthly[1][4])
  end)

  it("sweep one scenario over volumes", function()
    local s = cost.sweep({ name = "wf", workflow = { transitions = 10 } }, { 1000, 2000 })
    assert.same({ 0.15, 0.4 }, { s.monthly[1][1], s.monthly[1][2] })
  end)

  it("rank inputs by their effect on the monthly total (+-20 %)", function()
    local r = cost.sensitivity { executions = 1000, workflow = { transitions = 10, free_tier = false },
      agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500 } }
    near(67.75, r.base, 1e-9)
    local by = {}
    for i, row in ipairs(r.inputs) do by[row.input] = row; row.rank = i end
    -- output tokens (500 x $15) weigh more than input tokens (2,000 x $3)
    near(0.4 * 37.5, by["agent.output_tokens"].swing, 1e-9)
    near(0.4 * 30, by["agent.input_tokens"].swing, 1e-9)
    assert.is_true(by["agent.output_tokens"].rank < by["agent.input_tokens"].rank)
    near(0.4 * 67.75, by.executions.swing, 1e-9)
    assert.is_true(by.executions.rank <= 3)
    near(0.4 * 0.25, by["workflow.transitions"].swing, 1e-9)
    for i = 2, #r.inputs do assert.is_true(r.inputs[i - 1].swing >= r.inputs[i].swing) end
  end)
end)

describe("the SVG chart", function()
  it("is valid SVG that rsvg-convert renders, with legend, axes and break-even markers", function()
    assert.is_true(h.have("rsvg-convert"), "rsvg-convert (librsvg2-bin) is needed: make deps")
    local cmp = cost.compare({
      { name = "Standard & <10>", workflow = { transitions = 10 } },
      { name = "Express", workflow = { type = "EXPRESS", duration_ms = 1000 } },
      { name = "Agent", agent = { model = "claude-haiku-4-5", steps = 2, input_tokens = 100, output_tokens = 10 } },
    }, { volumes = { 100, 1000, 10000 } })
    local svg = cmp:svg { title = "test chart" }
    local dir = h.tmpdir()
    h.write(dir .. "/c.svg", svg)
    local status, _, err = h.run("rsvg-convert -o " .. dir .. "/c.png " .. dir .. "/c.svg", true)
    assert.equal(0, status, err)
    assert.equal("\137PNG", h.read(dir .. "/c.png"):sub(1, 4))
    os.execute("rm -rf " .. h.shell_quote(dir))
    assert.matches("Standard &amp; &lt;10&gt;", svg, 1, true)
    assert.matches(">Express</text>", svg, 1, true)
    assert.matches(">Agent</text>", svg, 1, true)
    assert.matches("executions per month (log scale)", svg, 1, true)
    assert.matches("monthly cost, USD (log scale)", svg, 1, true)
    local marks = select(2, svg:gsub('class="break%-even"', ""))
    local in_range = 0
    for _, b in ipairs(cmp.break_even) do
      if b.executions >= 100 and b.executions <= 10000 and b.usd > 0 then in_range = in_range + 1 end
    end
    assert.is_true(in_range >= 1)
    assert.equal(in_range, marks)
    assert.matches("break-even 404/mo", svg, 1, true)
    -- three options drawn with different dash patterns (readable in grey)
    assert.equal(3, select(2, svg:gsub('class="option"', "")))
    assert.matches('stroke%-dasharray="8 4"', svg)
  end)
end)

-- A Parallel of two branches, then a Map of three items whose Task fails
-- once per item and is retried.
local FANOUT = [[{
  "StartAt": "Fan",
  "States": {
    "Fan": {"Type": "Parallel", "ResultPath": null, "Next": "Each", "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
      {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "B2"},
                                   "B2": {"Type": "Pass", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
      "ItemProcessor": {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": "flaky", "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}]}}}},
    "Done": {"Type": "Succeed"}
  }
}]]

-- Billed transitions counted independently of the meter: states entered
-- plus task attempts whose previous event is not their state's entry.
local function count_from_events(ex)
  local by_id, n = {}, 0
  for ev in ex:events() do
    by_id[ev.id] = ev
    if ev.type:match("StateEntered$") then n = n + 1 end
    if ev.type == "TaskScheduled" or ev.type == "LambdaFunctionScheduled" then
      local prev = by_id[ev.previousEventId]
      if not (prev and prev.type == "TaskStateEntered") then n = n + 1 end
    end
  end
  return n
end

describe("measured cost", function()
  it("counts a real execution's transitions: states entered and retries", function()
    local engine = orchestra.engine { clock = "virtual" }
    for r, f in pairs(dofile(h.ROOT .. "/examples/order/tasks.lua")) do engine:handler(r, f) end
    local machine = engine:load(h.read(h.ROOT .. "/examples/order/definition.asl.json"))
    local ex = machine:start_json(h.read(h.ROOT .. "/examples/order/input.json"))
    assert.equal("SUCCEEDED", ex:wait())
    local b = cost.of(ex)
    -- Validate, Charge, Route, ManualReview, Ledger, Receipt + 2 retries of Charge
    assert.equal(6, b.counts.state_entries)
    assert.equal(2, b.counts.retries)
    assert.equal(8, b.counts.transitions)
    assert.equal(count_from_events(ex), b.counts.transitions)
    assert.equal(8 * 0.000025, b.total)
    assert.equal("Standard state transitions", b.lines[1].item)
    assert.equal(8, b.lines[1].units)
    -- Express: 906 s measured (a 900-second Wait), 64 MB
    local e = cost.of(ex, { type = "EXPRESS" })
    assert.equal(906000, e.counts.duration_ms)
    near(1e-6 + 9060 * 104166875e-15, e.total, 1e-18)
  end)

  it("counts Map iterations, Parallel branches and retries inside them", function()
    local engine = orchestra.engine { clock = "virtual" }
    local seen = {}
    engine:handler("flaky", function(input)
      if not seen[input] then
        seen[input] = true
        error({ Error = "Flaky", Cause = "first attempt" })
      end
      return input
    end)
    local ex = engine:load(FANOUT):start({ items = { 1, 2, 3 } })
    assert.equal("SUCCEEDED", ex:wait())
    local b = cost.of(ex)
    -- Fan, A, B1, B2, Each, Work x 3, Done = 9 entries; 3 retries
    assert.equal(9, b.counts.state_entries)
    assert.equal(3, b.counts.retries)
    assert.equal(12, b.counts.transitions)
    assert.equal(count_from_events(ex), b.counts.transitions)
    assert.equal(ex.transitions + 3, b.counts.transitions)
    near(12 * 0.000025, b.total)
    -- the same from the history's JSON text
    assert.equal(12, cost.of(ex:history_json()).counts.transitions)
  end)

  it("tells retries from first attempts by previousEventId when a history has ids", function()
    -- two branches enter a Task; the first retries, the second never
    -- schedules (the execution fails first): counting entries alone would
    -- take the retry for the second branch's first attempt
    local history = { events = {
      { id = 1, previousEventId = 0, type = "ExecutionStarted", timestamp = 0 },
      { id = 2, previousEventId = 1, type = "TaskStateEntered", timestamp = 0 },
      { id = 3, previousEventId = 1, type = "TaskStateEntered", timestamp = 0 },
      { id = 4, previousEventId = 2, type = "TaskScheduled", timestamp = 0 },
      { id = 5, previousEventId = 4, type = "TaskFailed", timestamp = 1 },
      { id = 6, previousEventId = 5, type = "TaskScheduled", timestamp = 2 },
      { id = 7, previousEventId = 6, type = "ExecutionFailed", timestamp = 3 },
    } }
    local b = cost.of(history)
    assert.equal(2, b.counts.state_entries)
    assert.equal(1, b.counts.retries)
    assert.equal(3, b.counts.transitions)
    -- without ids the meter can only count entries: it says 0 retries here
    local m = require("orchestra.core").cost_meter()
    for _, ev in ipairs(history.events) do m:add(ev.type, ev.timestamp) end
    assert.equal(0, m:counts().retries)
  end)

  it("includes a distributed Map's child executions", function()
    local dir = h.tmpdir()
    os.execute("mkdir -p " .. h.shell_quote(dir .. "/bkt"))
    h.write(dir .. "/bkt/items.json", "[1, 2, 3, 4]")
    local def = json.encode({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemReader = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = { InputType = "JSON" },
        Parameters = { Bucket = "bkt", Key = "items.json" } },
      ItemProcessor = { ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" },
        StartAt = "P", States = { P = { Type = "Pass", Next = "Q" }, Q = { Type = "Pass", End = true } } } } } })
    local engine = orchestra.engine { clock = "virtual", data_dir = dir }
    local ex = engine:load(def):start({})
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal(4, #ex:children())
    -- the parent's Map state, then P and Q in each of the 4 children
    local b = cost.of(ex)
    assert.equal(1 + 4 * 2, b.counts.transitions)
    assert.equal(5, b.counts.executions)
    assert.equal(1, cost.of(ex, { children = false }).counts.transitions)
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)

  it("prices an agent's model calls from its trace events", function()
    -- the shape the agent loop's ModelCallSucceeded events will carry
    local function call(model, i, o, cr, cw)
      return { type = "ModelCallSucceeded", timestamp = 1, modelCallSucceededEventDetails = {
        ["gen_ai.request.model"] = model, ["gen_ai.usage.input_tokens"] = i,
        ["gen_ai.usage.output_tokens"] = o, ["gen_ai.usage.cache_read.input_tokens"] = cr,
        ["gen_ai.usage.cache_creation.input_tokens"] = cw } }
    end
    local history = { events = {
      { type = "ExecutionStarted", timestamp = 0 },
      call("claude-sonnet-4", 2000, 500, nil, 1500),
      { type = "ToolCallScheduled", timestamp = 1 },
      call("claude-sonnet-4", 600, 400, 1500, nil),
      call("gpt-4o-mini", 1000, 100),
      { type = "ExecutionSucceeded", timestamp = 2 },
    } }
    local b = cost.of(history)
    assert.equal(3, b.counts.model_calls)
    assert.equal(1, b.counts.tool_calls)
    local expect = 2600 * 3e-6 + 900 * 15e-6 + 1500 * 3.75e-6 + 1500 * 0.3e-6
      + 1000 * 0.15e-6 + 100 * 0.6e-6
    near(expect, b.total)
    near(expect, b.subtotals.models)
    local items = {}
    for _, l in ipairs(b.lines) do items[#items + 1] = l.item end
    assert.same({ "Standard state transitions", "claude-sonnet-4 input", "claude-sonnet-4 output",
      "claude-sonnet-4 cache write", "claude-sonnet-4 cache read", "gpt-4o-mini input",
      "gpt-4o-mini output", "tool calls" }, items)
    -- a model the catalog does not price is an error, not a silent $0
    raises(function() cost.of({ events = { call("mystery-model", 1, 1) } }) end, "InvalidScenario",
      nil, "model 'mystery-model' has no price")
    raises(function() cost.of({ events = { { type = "ModelCallSucceeded", modelCallSucceededEventDetails = {
      ["gen_ai.request.model"] = "gpt-4o", ["gen_ai.usage.input_tokens"] = "many" } } } }) end,
      "InvalidHistory", "/events/0", "gen_ai.usage.input_tokens must be a non-negative number")
    raises(function() cost.of({ events = { { id = 1 } } }) end, "InvalidHistory", "/events/0",
      "an event needs a string \"type\"")
  end)

  it("checks a budget before a model call (the bound for Cost.BudgetExceeded)", function()
    local m = require("orchestra.core").cost_meter()
    m:add("ModelCallSucceeded", 0, { ["gen_ai.request.model"] = "claude-3-5-sonnet",
      ["gen_ai.usage.input_tokens"] = 10000, ["gen_ai.usage.output_tokens"] = 2500 })
    -- spent $0.0675; the next call may cost 2,000 x $3 + 1,000 x $15 per M = $0.021
    local over, spent = m:would_exceed(cost.catalog(), nil, "claude-3-5-sonnet", 2000, 1000, 0.08)
    assert.is_true(over)
    near(0.0675, spent)
    over = m:would_exceed(cost.catalog(), nil, "claude-3-5-sonnet", 2000, 1000, 0.09)
    assert.is_false(over)
  end)
end)

describe("simulation", function()
  -- a loop that flips until heads: K ~ Geometric(p), transitions = 2K + 1,
  -- E = 2/p + 1
  local LOOP = [[{"StartAt": "Flip", "States": {
    "Flip": {"Type": "Task", "Resource": "flip", "Next": "Heads?"},
    "Heads?": {"Type": "Choice", "Choices": [
      {"Variable": "$.heads", "BooleanEquals": true, "Next": "Done"}], "Default": "Flip"},
    "Done": {"Type": "Succeed"}}}]]

  it("converges on the closed-form expectation of a Choice loop", function()
    local p = 0.25
    local r = cost.simulate { definition = LOOP, runs = 20000, seed = 7,
      tasks = { flip = function(_, _, random) return { heads = random() < p } end } }
    assert.equal(20000, r.runs)
    assert.equal(20000, r.statuses.SUCCEEDED)
    -- sd of 2K + 1 is 2 sqrt(1-p)/p = 6.9; 5 standard errors at 20,000 runs = 0.25
    near(2 / p + 1, r.transitions.mean, 0.25)
    assert.equal(7, r.transitions.p50)   -- P(K <= 3) = 0.58
    assert.equal(23, r.transitions.p95)  -- P(K <= 10) = 0.944, P(K <= 11) = 0.958
    near(r.transitions.mean * 0.000025, r.usd.mean, 1e-12)
    assert.is_nil(r.stopped)
    assert.matches("20000 simulated executions", r:table(), 1, true)
  end)

  it("drives Retry and Catch with failure rates and prices agent steps", function()
    local def = [[{"StartAt": "Ask", "States": {
      "Ask": {"Type": "Task", "Resource": "agent", "Next": "Charge"},
      "Charge": {"Type": "Task", "Resource": "charge", "End": true,
        "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
      "Failed": {"Type": "Fail", "Error": "Charge.Failed"}}}]]
    local r = cost.simulate { definition = def, runs = 4000, seed = 3,
      failures = { charge = { rate = 0.5, error = "Busy" } },
      agents = { agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500 } } }
    -- attempts: 1 or 2; failure of both (p = 0.25) goes to Failed
    near(0.25, (r.statuses.FAILED or 0) / 4000, 0.03)
    -- transitions: Ask, Charge, (retry 1/2), (Failed 1/4) => mean 2.75
    near(2.75, r.transitions.mean, 0.05)
    near(0.0675 + 2.75 * 0.000025, r.usd.mean, 0.05 * 0.000025)
    near(12500, r.tokens["claude-3-5-sonnet"].mean, 1e-9)
  end)

  it("stops early with the result so far", function()
    local r = cost.simulate { definition = LOOP, runs = 100000, check_every = 500,
      tasks = { flip = function(_, _, random) return { heads = random() < 0.5 } end },
      stop = function(partial) return partial.runs >= 2000 end }
    assert.equal(2000, r.runs)
    assert.equal("stop function", r.stopped)
    r = cost.simulate { definition = LOOP, runs = 100000, check_every = 100, max_seconds = 0,
      tasks = { flip = function() return { heads = true } end } }
    assert.equal(100, r.runs)
    assert.equal("max_seconds", r.stopped)
    assert.equal(3, r.transitions.mean)
  end)
end)

describe("the seed's comparison (pricing reference, section 5)", function()
  local function agent(input, steps, model)
    return { agent = { model = model or "claude-3-5-sonnet", steps = steps or 5,
      input_tokens = input or 2000, output_tokens = 500 } }
  end
  local function sfn(t, free) return { workflow = { transitions = t, free_tier = free or false } } end
  local rows = { 1000, 10000, 100000, 1000000 }

  it("follows from the stated prices where it can", function()
    local exact = { 67.5, 675, 6750, 67500 }
    local at_010 = { 0.25, 2.5, 25, 250 }
    for i, n in ipairs(rows) do
      near(exact[i], cost.monthly(agent(), n), 1e-9)
      near(at_010[i], cost.monthly(sfn(10), n), 1e-12)
    end
    assert.equal(0.0675, cost.scenario(agent()).per_execution.total)
    assert.equal(0.00025, cost.scenario(sfn(10)).per_execution.total)
  end)

  it("needs extra assumptions for the published figures, and says which", function()
    -- $0.09 a task: 3,500 input tokens a step; seed SFN rows 1-3: 5
    -- transitions; its last row: one transition per step
    local published_agent = { 90, 900, 9000, 90000 }
    local published_sfn = { 0.125, 1.25, 12.5 }
    for i, n in ipairs(rows) do
      near(published_agent[i], cost.monthly(agent(3500), n), 1e-9)
      if published_sfn[i] then near(published_sfn[i], cost.monthly(sfn(5), n), 1e-12) end
    end
    near(25, cost.monthly(sfn(1), 1000000), 1e-12)
    -- 7 model calls give $0.0945, about $0.09; 1M single steps $13,500
    near(0.0945, cost.scenario(agent(2000, 7)).per_execution.total)
    near(13500, cost.monthly(agent(2000, 1), 1000000), 1e-9)
    -- not context growth: re-reading earlier outputs $0.0825, everything $0.1425
    near(0.0825, cost.scenario({ agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000,
      output_tokens = 500, context_growth = 500 } }).per_execution.total)
    near(0.1425, cost.scenario({ agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000,
      output_tokens = 500, context_growth = 2500 } }).per_execution.total)
    -- the free tier: 0.15 / 2.40 / 24.90 / 249.90 at 10 transitions
    local free = { 0.15, 2.4, 24.9, 249.9 }
    for i, n in ipairs(rows) do near(free[i], cost.monthly(sfn(10, true), n), 1e-12) end
    -- current price of 3.5 Sonnet v2 ($6 / $30): $0.135 a task
    assert.equal(0.135, cost.scenario(agent(2000, 5, "claude-3-5-sonnet-v2")).per_execution.total)
  end)

  it("prints its verdicts in examples/cost_comparison.lua", function()
    local status, out, err = h.run(h.lua_env() .. h.LUA .. " " .. h.ROOT .. "/examples/cost_comparison.lua")
    assert.equal(0, status, err)
    assert.matches("= $0.0675 (the seed says about $0.09)", out, 1, true)
    assert.matches("$90.00 +$67.50 +needs an extra assumption: %+1,500 input tokens a step", out)
    assert.matches("$0.125 +$0.25 +needs an extra assumption: 5 transitions per execution", out)
    assert.matches("$25.00 +$250.00 +needs an extra assumption: 1 transition per row unit", out)
    assert.matches("the stated tokens it is $13,500.00", out, 1, true)
    assert.matches("$0.15 / $2.40 / $24.90 / $249.90", out, 1, true)
    assert.matches("$135.00", out, 1, true)
  end)
end)

describe("the simulation benchmark", function()
  it("runs bench/simulate.lua and checks its result", function()
    local status, out, err = h.run(h.lua_env() .. h.LUA .. " " .. h.ROOT .. "/bench/simulate.lua --runs 50")
    assert.equal(0, status, err)
    local line = json.decode(out)
    assert.equal(50, line.runs)
    assert.equal((6 * 49 + 8) / 50, line.mean_transitions)
    assert.is_true(line.per_second > 0 and line.seconds > 0)
  end)
end)

describe("orchestra cost", function()
  it("prices a history that orchestra run wrote", function()
    local dir = h.tmpdir()
    local ex = h.ROOT .. "/examples/order/"
    local status, _, err = h.orchestra("run " .. ex .. "definition.asl.json --input " .. ex
      .. "input.json --tasks " .. ex .. "tasks.lua --history " .. dir .. "/h.json")
    assert.equal(0, status, err)
    local out
    status, out, err = h.orchestra("cost history " .. dir .. "/h.json --format json")
    assert.equal(0, status, err)
    local b = json.decode(out)
    assert.equal(8, b.counts.transitions)
    assert.equal(0.0002, b.total)
    status, out = h.orchestra("cost history " .. dir .. "/h.json")
    assert.equal(0, status)
    assert.matches("Standard state transitions +8 +transition +%$0%.000025 +%$0%.0002", out)
    status, out = h.orchestra("cost history " .. dir .. "/h.json --format csv --type express --memory-mb 128")
    assert.equal(0, status)
    assert.matches("workflow,Express duration,18120,64MB%-100ms", out)
    -- a price file overrides the catalog
    h.write(dir .. "/p.json", '{"step_functions": {"standard": {"per_1000_transitions": 1}}}')
    status, out = h.orchestra("cost history " .. dir .. "/h.json --format json --prices " .. dir .. "/p.json")
    assert.equal(0, status)
    assert.equal(0.008, json.decode(out).total)
    h.write(dir .. "/bad.json", '{"events": [{"id": 1}]}')
    status, out, err = h.orchestra("cost history " .. dir .. "/bad.json")
    assert.equal(2, status)
    assert.equal("", out)
    assert.equal("orchestra: cost: history: " .. dir .. "/bad.json: /events/0: an event needs a string \"type\"\n", err)
    status, _, err = h.orchestra("cost history " .. dir .. "/none.json")
    assert.equal(66, status)
    assert.matches("cannot read", err)
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)

  it("prices, compares and charts scenario files", function()
    local dir = h.tmpdir()
    h.write(dir .. "/agent.lua", [[return { name = "agent", executions = 1000,
      agent = { model = "claude-3-5-sonnet", steps = 5, input_tokens = 2000, output_tokens = 500 } }]])
    h.write(dir .. "/wf.lua", [[return { { name = "standard", workflow = { transitions = 10 } },
      { name = "express", workflow = { type = "EXPRESS", duration_ms = 1000 } } }]])
    local status, out, err = h.orchestra("cost scenario " .. dir .. "/agent.lua")
    assert.equal(0, status, err)
    assert.matches("agent: per execution $0.0675, monthly at 1,000 executions $67.50", out, 1, true)
    status, out = h.orchestra("cost scenario " .. dir .. "/agent.lua --format json")
    assert.equal(67.5, json.decode(out).monthly.total)
    status, out = h.orchestra("cost scenario " .. dir .. "/agent.lua --sensitivity")
    assert.equal(0, status)
    assert.matches("each input moved by %-/%+20 %%", out)
    status, out, err = h.orchestra("cost compare " .. dir .. "/agent.lua " .. dir .. "/wf.lua --volumes 100,1000")
    assert.equal(0, status, err)
    assert.matches("break-even: standard and express at 404 executions/month", out, 1, true)
    status, out = h.orchestra("cost compare " .. dir .. "/wf.lua --volumes 100,1000 --format csv")
    assert.equal("executions,standard,express\n100,0,0.000204166875\n1000,0.15,0.00204166875\n", out)
    status, out = h.orchestra("cost compare " .. dir .. "/wf.lua --format svg")
    assert.equal(0, status)
    assert.matches("^<svg ", out)
    h.write(dir .. "/bad.lua", [[return { agent = { model = "claude-3-5-sonnet", steps = "five" } }]])
    status, out, err = h.orchestra("cost scenario " .. dir .. "/bad.lua")
    assert.equal(2, status)
    assert.equal("orchestra: cost: scenario: " .. dir .. "/bad.lua: /agent/steps: must be a number, not string\n", err)
    status, _, err = h.orchestra("cost compare " .. dir .. "/wf.lua --volumes 1,x")
    assert.equal(64, status)
    assert.matches("--volumes takes numbers", err, 1, true)
    status, _, err = h.orchestra("cost scenario " .. dir .. "/agent.lua --format pdf")
    assert.equal(64, status)
    assert.matches("--format must be table, csv, json or svg", err, 1, true)
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)

  it("simulates a definition without progress output when stderr is not a terminal", function()
    local ex = h.ROOT .. "/examples/order/"
    local status, out, err = h.orchestra("cost simulate " .. ex .. "definition.asl.json --input "
      .. ex .. "input.json --tasks " .. ex .. "tasks.lua --runs 300 --format json")
    assert.equal(0, status, err)
    assert.equal("", err)
    local r = json.decode(out)
    assert.equal(300, r.runs)
    -- the tasks file's card service is busy twice in the whole process:
    -- one run retries twice, the other 299 enter 6 states
    assert.equal((299 * 6 + 8) / 300, r.transitions.mean)
    status, _, err = h.orchestra("cost simulate " .. ex .. "definition.asl.json --fail x=2")
    assert.equal(64, status)
    assert.matches("--fail takes RESOURCE=RATE", err, 1, true)
  end)
end)
