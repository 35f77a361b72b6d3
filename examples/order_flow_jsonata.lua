-- The order workflow of examples/order_flow.lua written in JSONata mode
-- (examples/order/definition.jsonata.json: Arguments, Output, Assign and
-- Condition instead of paths), run with the same task handlers on a virtual
-- clock next to the JSONPath definition: the same outputs and events.
--
--   lua5.4 examples/order_flow_jsonata.lua    (after `make`)
local orchestra = require "orchestra"

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local function read(path)
  local f = assert(io.open(dir .. "/" .. path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- one engine per definition, so that each sees the task handlers fresh
local function machine(file)
  local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 1 }
  for resource, fn in pairs(dofile(dir .. "/order/tasks.lua")) do engine:handler(resource, fn) end
  return engine:load(read(file), { name = "OrderFlow" })
end

local jsonpath, jsonata = machine("order/definition.asl.json"), machine("order/definition.jsonata.json")

local function events(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local orders = {
  { "order A-1001", read("order/input.json") },
  { "declined card", '{"orderId": "A-1002", "items": [{"sku": "mug", "qty": 1}], '
    .. '"subtotalCents": 950, "shippingCents": 300, "card": "4000-0000-0000-0002"}' },
}
for _, o in ipairs(orders) do
  local a, b = jsonpath:start_json(o[2]), jsonata:start_json(o[2])
  a:wait()
  b:wait()
  print(("== %s: JSONPath %s, JSONata %s"):format(o[1], a.status, b.status))
  if b.status == "SUCCEEDED" then
    print("JSONata output: " .. b:output_json())
    print("same output as JSONPath: " .. tostring(orchestra.json.encode(a.output) == orchestra.json.encode(b.output)))
  else
    print(("JSONata error: %s (%s)"):format(b.error, b.cause))
  end
  print(("events: %d and %d, same types: %s"):format(#events(a), #events(b),
    tostring(table.concat(events(a), ",") == table.concat(events(b), ","))))
end

-- an expression that fails is States.QueryEvaluationError, named in the history
local bad = orchestra.engine { clock = "virtual" }:load {
  QueryLanguage = "JSONata", StartAt = "Total",
  States = { Total = { Type = "Pass", Output = { total = "{% $sum($states.input.lines.cents) %}",
                                                  vat = "{% $states.input.vatRate * 100 %}" }, End = true } },
}
local ex = bad:start { lines = { { cents = 250 } } }
ex:wait()
print("== a missing field: " .. ex.status .. " " .. ex.error)
print(ex.cause)
for ev in ex:events() do
  if ev.type == "EvaluationFailed" then
    print("EvaluationFailed at " .. ev.evaluationFailedEventDetails.location)
  end
end
