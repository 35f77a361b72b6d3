-- Task handlers for examples/order/definition.asl.json, used by
-- examples/order_flow.lua and by `orchestra run ... --tasks` alike.
local busy = 0

return {
  ["arn:aws:lambda:us-east-1:123456789012:function:validate-order"] = function(input)
    if #input.items == 0 then
      error({ Error = "Order.Invalid", Cause = "the order has no items" })
    end
    return { ok = true, totalCents = input.totalCents, lines = #input.items }
  end,

  -- lambda:invoke answers in the Invoke response shape
  ["arn:aws:states:::lambda:invoke"] = function(input)
    local p = input.Payload
    if p.card == "4000-0000-0000-0002" then
      error({ Error = "Card.Declined", Cause = "insufficient funds" })
    end
    busy = busy + 1
    if busy <= 2 then -- the card service is busy twice, then answers
      error({ Error = "CardService.Busy", Cause = "try again" })
    end
    return { StatusCode = 200, ExecutedVersion = "$LATEST",
             Payload = { chargeId = "ch_" .. p.orderId, amountCents = p.amountCents } }
  end,

  ["arn:aws:lambda:us-east-1:123456789012:function:ledger"] = function(input)
    return { line = input.entry, chargeId = input.chargeId }
  end,
}
