-- A tour of the JSON bridge: decode an order document, change it in Lua,
-- encode it back. Exact integers, null, and [] versus {} survive the trip.
--
--   lua5.4 examples/json_roundtrip.lua      (after `make`; see README)
local orchestra = require "orchestra"
local json = orchestra.json

local order = json.decode([[
{
  "orderId": 9007199254740991,
  "customer": {"name": "Zoë", "vip": false},
  "items": [
    {"sku": "kettle", "qty": 1, "price": 39.9},
    {"sku": "mug",    "qty": 4, "price": 7.5}
  ],
  "coupon": null,
  "tags": [],
  "meta": {}
}
]])

local total = 0
for _, item in ipairs(order.items) do
  total = total + item.qty * item.price
end
order.total = total
order.items[#order.items + 1] = { sku = "gift-wrap", qty = 1, price = 0 }

print("round trip: " .. json.encode(order))
print("coupon is null: " .. tostring(order.coupon == orchestra.null))
print("empty array stays an array: " .. json.encode(order.tags))
print("empty object stays an object: " .. json.encode(order.meta))

-- Errors say where: the byte offset, line and column, and the text around.
local ok, err = pcall(json.decode, '{"qty": 01}')
print("bad input: " .. (ok and "accepted?!" or err))
