-- JSONata: what compiling once saves. For a few Step Functions-style
-- expressions, times N evaluations of one compiled expression against N
-- compile+evaluate rounds and prints microseconds per evaluation and the
-- ratio. Each round also parses the input text and converts the result
-- to Lua, as a Lua user's call does; the evaluation alone is far cheaper
-- (`counter + 1` on this input: ~0.7 us in a C loop). Run from the
-- repository root:
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 bench/jsonata.lua [N]
local orchestra = require "orchestra"
local jsonata = orchestra.jsonata
local N = tonumber(arg and arg[1]) or 20000

local input = [[{"order":{"id":"A-17","customer":{"name":"Ann","tier":"gold"},
  "items":[{"sku":"x1","price":2.5,"qty":4},{"sku":"y2","price":10,"qty":1},
           {"sku":"z3","price":0.99,"qty":12}]},"counter":41}]]

local cases = {
  { "field", "order.customer.name" },
  { "arithmetic", "counter + 1" },
  { "aggregate", "$sum(order.items.(price * qty))" },
  { "construct", '{"id": order.id, "total": $sum(order.items.(price*qty)), "skus": order.items.sku}' },
  { "filter+sort", "order.items[price > 1]^(>price).sku" },
  { "string", "$uppercase(order.customer.name) & '-' & $string(counter)" },
}

local now = orchestra.monotonic
print(string.format("%-12s %12s %16s %8s", "expression", "eval us", "compile+eval us", "ratio"))
for _, c in ipairs(cases) do
  local name, text = c[1], c[2]
  local x = jsonata.compile(text)
  local want = orchestra.json.encode(x:evaluate_json(input))
  local t0 = now()
  for _ = 1, N do x:evaluate_json(input) end
  local once = (now() - t0) / N
  t0 = now()
  for _ = 1, N do jsonata.compile(text):evaluate_json(input) end
  local each = (now() - t0) / N
  assert(orchestra.json.encode(jsonata.compile(text):evaluate_json(input)) == want)
  print(string.format("%-12s %12.2f %16.2f %8.2f", name, once * 1e6, each * 1e6, each / once))
end
