-- The measured cost of a real agent run (issue 11, "Done when": agent
-- token costs from a scripted agent's trace): a scripted model with stated
-- usage per turn (cache writes and reads included) and real tool calls,
-- metered as the events are appended (ex.cost), and the same total from
-- the invocation's history through `orchestra cost history FILE.json`.
local h = require "spec.helper"
local orchestra = require "orchestra"
local json = orchestra.json

-- Claude 3.5 Sonnet (v1) in data/prices.json: $3 input, $15 output, $3.75
-- cache write, $0.30 cache read per million tokens.
local TURNS = {
  { text = "Let me look.", tool_calls = { { id = "t1", name = "lookup", arguments = { order = 42 } } },
    usage = { input_tokens = 1200, output_tokens = 150, cache_write_tokens = 800 } },
  { text = "And the carrier.", tool_calls = { { id = "t2", name = "carrier", arguments = { order = 42 } } },
    usage = { input_tokens = 300, output_tokens = 80, cache_read_tokens = 800 } },
  { text = "Order 42 ships tomorrow with ACME.",
    usage = { input_tokens = 400, output_tokens = 120, cache_read_tokens = 800 } },
}
-- Tokens: input 1,200 + 300 + 400 = 1,900; output 150 + 80 + 120 = 350;
-- cache write 800; cache read 800 + 800 = 1,600.
-- Dollars: 1,900 x $0.000003 = $0.0057; 350 x $0.000015 = $0.00525;
-- 800 x $0.00000375 = $0.003; 1,600 x $0.0000003 = $0.00048.
-- Total: $0.0057 + $0.00525 + $0.003 + $0.00048 = $0.01443.
local TOTAL = 0.01443

local function line(b, item)
  for _, l in ipairs(b.lines) do
    if l.item == item then return l end
  end
  error("no line " .. item)
end

local function near(a, b)
  assert.is_true(math.abs(a - b) < 1e-15, ("%.17g vs %.17g"):format(a, b))
end

describe("an agent's measured cost", function()
  it("prices the tokens of a scripted agent's trace by model and kind", function()
    local E = orchestra.engine { clock = "virtual", meter = true }
    local tools_called = {}
    local a = E:agent { name = "support",
      model = orchestra.models.scripted { model = "claude-3-5-sonnet", turns = TURNS },
      tools = {
        lookup = { description = "an order", handler = function(args)
          tools_called[#tools_called + 1] = "lookup"
          return { order = args.order, status = "packed" }
        end },
        carrier = { description = "its carrier", handler = function()
          tools_called[#tools_called + 1] = "carrier"
          return { carrier = "ACME" }
        end },
      } }
    local ex = a:start("Where is order 42?")
    assert.are.equal("SUCCEEDED", ex:wait())
    assert.are.same({ "lookup", "carrier" }, tools_called)
    assert.are.equal("Order 42 ships tomorrow with ACME.", ex.output.text)
    local b = ex.cost
    local l = line(b, "claude-3-5-sonnet input")
    assert.are.equal(1900, l.units)
    near(0.000003, l.unit_usd)
    near(0.0057, l.usd)
    l = line(b, "claude-3-5-sonnet output")
    assert.are.equal(350, l.units)
    near(0.00525, l.usd)
    l = line(b, "claude-3-5-sonnet cache write")
    assert.are.equal(800, l.units)
    near(0.003, l.usd)
    l = line(b, "claude-3-5-sonnet cache read")
    assert.are.equal(1600, l.units)
    near(0.00048, l.usd)
    l = line(b, "tool calls")
    assert.are.equal(2, l.units)
    assert.are.equal(0, l.usd)
    assert.are.equal(3, b.counts.model_calls)
    assert.are.equal(2, b.counts.tool_calls)
    assert.are.equal(0, b.counts.transitions)
    near(TOTAL, b.total)
    near(TOTAL, b.subtotals.models)

    -- the same from the recorded history, through the command line
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(json.encode(ex:history()))
    f:close()
    local status, out, err = h.orchestra("cost history " .. path .. " --format json")
    os.remove(path)
    assert.are.equal(0, status, err)
    local r = json.decode(out)
    near(TOTAL, r.total)
    assert.are.equal(1600, line(r, "claude-3-5-sonnet cache read").units)
    assert.are.equal(3, r.counts.model_calls)
    -- and from Lua, on the execution itself of an engine that does not meter
    local E2 = orchestra.engine { clock = "virtual" }
    local a2 = E2:agent { name = "support", model = orchestra.models.scripted { model = "claude-3-5-sonnet",
      turns = TURNS }, tools = { lookup = { handler = function() return {} end },
                                 carrier = { handler = function() return {} end } } }
    local ex2 = a2:start("Where is order 42?")
    assert.are.equal("SUCCEEDED", ex2:wait())
    assert.is_false(ex2.metered)
    near(TOTAL, orchestra.cost.of(ex2).total)
    E:close()
    E2:close()
  end)
end)
