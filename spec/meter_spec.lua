-- The engine's meter (issue 11 item 2 on issue 8's history hook): with
-- orchestra.engine{meter = true} every execution counts its billable units
-- as events are appended, so ex.cost works with history = "none" and agrees
-- with the cost measured from a full history.
local orchestra = require "orchestra"
local cost = require "orchestra.cost"

local DEF = { StartAt = "Charge", States = {
  Charge = { Type = "Task", Resource = "charge", Next = "Both",
    Retry = { { ErrorEquals = { "Flaky" }, IntervalSeconds = 1, MaxAttempts = 3 } } },
  Both = { Type = "Parallel", Next = "Each", ResultPath = "$.both", Branches = {
    { StartAt = "A", States = { A = { Type = "Pass", End = true } } },
    { StartAt = "B", States = { B = { Type = "Pass", End = true } } } } },
  Each = { Type = "Map", ItemsPath = "$.items", End = true,
    ItemProcessor = { StartAt = "I", States = { I = { Type = "Pass", End = true } } } } } }

local function run(opts)
  local e = orchestra.engine(opts)
  local calls = 0
  e:handler("charge", function()
    calls = calls + 1
    if calls < 3 then error({ Error = "Flaky", Cause = "try again" }) end
    return { items = { 1, 2, 3 } }
  end)
  local ex = e:load(DEF):start({})
  assert.equal("SUCCEEDED", ex:wait())
  return ex, e
end

local function transitions(b)
  for _, l in ipairs(b.lines) do
    if l.item and l.item:find("transition") then return l.units end
  end
end

describe("the engine's meter", function()
  it("counts the same billable transitions with history = none as a full history shows", function()
    local full = run({ clock = "virtual", seed = 1 })
    local none = run({ clock = "virtual", seed = 1, meter = true, history = "none" })
    assert.is_false(full.metered)
    assert.is_true(none.metered)
    assert.same({}, none:history().events) -- nothing kept ...
    local measured = cost.of(full)          -- ... yet the same bill
    local metered = none.cost
    -- 1 Charge + 1 Both + 2 branch states + 1 Each + 3 iterations = 8
    -- entries, plus 2 retries of Charge
    assert.equal(10, transitions(measured))
    assert.equal(10, transitions(metered))
    assert.equal(measured.total, metered.total)
  end)

  it("is refused as an option when it is not a boolean", function()
    local ok, err = pcall(orchestra.engine, { meter = "yes" })
    assert.is_false(ok)
    assert.matches("meter", tostring(err))
  end)

  it("counts a distributed Map's children into the parent's bill", function()
    local e = orchestra.engine({ clock = "virtual", seed = 1, meter = true, history = "none" })
    local ex = e:load({ StartAt = "M", States = { M = { Type = "Map", End = true,
      ItemProcessor = { ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" },
        StartAt = "P", States = { P = { Type = "Pass", Next = "Q" }, Q = { Type = "Pass", End = true } } } } } })
      :start({ 1, 2, 3, 4 })
    assert.equal("SUCCEEDED", ex:wait())
    assert.equal(1 + 4 * 2, transitions(ex.cost))
  end)
end)
