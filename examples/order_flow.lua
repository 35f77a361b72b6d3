-- The main demo: an order workflow (validate -> charge with Retry -> Choice
-- -> ledger -> receipt, with a Catch to a compensation path) run on a
-- virtual clock, then its output and a short history summary.
--
--   make demo          (or: lua5.4 examples/order_flow.lua after `make`)
local orchestra = require "orchestra"

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local function read(path)
  local f = assert(io.open(dir .. "/" .. path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 1 }
for resource, fn in pairs(dofile(dir .. "/order/tasks.lua")) do
  engine:handler(resource, fn)
end
local machine = engine:load(read("order/definition.asl.json"), { name = "OrderFlow" })

local function show(title, input)
  local ex = machine:start_json(input)
  local status = ex:wait()
  print(("== %s: %s"):format(title, status))
  if status == "SUCCEEDED" then
    print("output: " .. ex:output_json())
  else
    print(("error: %s (%s)"):format(ex.error, ex.cause))
  end
  local counts, order, first, last = {}, {}, nil, nil
  for ev in ex:events() do
    if not counts[ev.type] then order[#order + 1] = ev.type end
    counts[ev.type] = (counts[ev.type] or 0) + 1
    first = first or ev.timestamp
    last = ev.timestamp
  end
  local parts = {}
  for _, t in ipairs(order) do parts[#parts + 1] = t .. " x" .. counts[t] end
  print(("history: %d events over %d s of simulated time"):format(
    #ex:history().events, math.floor(last - first + 0.5)))
  print("  " .. table.concat(parts, ", "))
  return ex
end

local charged = show("order A-1001", read("order/input.json"))
show("declined card", '{"orderId": "A-1002", "items": [{"sku": "mug", "qty": 1}], '
  .. '"subtotalCents": 950, "shippingCents": 300, "card": "4000-0000-0000-0002"}')

-- What the charged order cost on Step Functions Standard, measured from its
-- history, and an agent doing the same job as a what-if (its step and token
-- counts are assumptions, stated in the labels).
local cost = orchestra.cost
local bill = cost.of(charged)
print(("== cost of order A-1001: %d billed transitions (%d states entered + %d retries) = %s")
  :format(bill.counts.transitions, bill.counts.state_entries, bill.counts.retries, cost.usd(bill.total)))
io.write(cost.compare({
  { name = "this workflow, Standard", workflow = { transitions = bill.counts.transitions } },
  { name = "an agent, 5 steps of 2,000 + 500 tokens, Claude Haiku 4.5",
    agent = { model = "claude-haiku-4-5", steps = 5, input_tokens = 2000, output_tokens = 500 } },
}, { volumes = { 1000, 100000 } }):table())
