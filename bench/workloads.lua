--- The six benchmark workloads, for any size: inputs, expected outputs and
-- transition counts, written from the workload descriptions in
-- workloads/spec.mjs and independent of the engine. The files under
-- workloads/<name>/ hold the same data at the measured sizes;
-- spec/bench_spec.lua checks that both agree.
local null = require("orchestra").null

local M = {}

M.NAMES = {
  "pass_chain", "map_inline", "parallel_fanout",
  "task_calls", "payload_heavy", "many_executions",
}

M.MEASURED_SIZES = {
  pass_chain = 50000, map_inline = 20000, parallel_fanout = 3000,
  task_calls = 40000, payload_heavy = 1000, many_executions = 10000,
}

M.TASK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:AddField"
local TASK_STATES = 5
local BRANCHES = 8
local BASE = 1000

local function is_known(name)
  return M.MEASURED_SIZES[name] ~= nil
end
M.is_known = is_known

--- The task_calls handler (manifest.json): a shallow copy of the input with
-- `calls` set to calls + 1.
function M.task_handler(input)
  local out = {}
  for k, v in pairs(input) do out[k] = v end
  out.calls = input.calls + 1
  return out
end

-- ~100 KiB document of payload_heavy: 768 records.
local function payload()
  local tags = { "alpha", "beta", "gamma", "delta" }
  local records = {}
  for r = 0, 767 do
    local t = {}
    for i = 1, 1 + r % 4 do t[i] = tags[i] end
    records[r + 1] = {
      id = r,
      sku = string.format("SKU-%05d", r * 7919 % 100000),
      qty = (r * 31) % 17,
      priceCents = 100 + (r * 977) % 9000,
      active = r % 3 ~= 0,
      tags = t,
      dims = { w = r % 50, h = (r * 3) % 70, note = r % 10 == 0 and null or "std" },
    }
  end
  return records
end

local function map_items(k)
  local items = {}
  for j = 0, k - 1 do
    items[j + 1] = { id = "item-" .. j, value = (j * 37) % 100 }
  end
  return items
end

--- The execution input as a Lua value (many_executions: a list of inputs).
function M.input(name, size)
  if name == "pass_chain" or name == "task_calls" then
    return { n = size }
  elseif name == "map_inline" then
    return { items = map_items(size) }
  elseif name == "parallel_fanout" then
    return { n = size, base = BASE }
  elseif name == "payload_heavy" then
    return { counter = { i = 0, n = size }, payload = { version = 0, records = payload() } }
  elseif name == "many_executions" then
    local list = {}
    for k = 0, size - 1 do list[k + 1] = { id = k } end
    return list
  end
  error("unknown workload '" .. tostring(name) .. "'", 2)
end

--- The correct output (many_executions: the list of outputs).
function M.expected(name, size)
  if name == "pass_chain" then
    return { i = size, n = size, next = { value = size } }
  elseif name == "task_calls" then
    return { i = size, n = size, calls = TASK_STATES * size }
  elseif name == "map_inline" then
    local out = {}
    for j, it in ipairs(map_items(size)) do
      out[j] = {
        index = j - 1, id = it.id, value = it.value, doubled = it.value * 2,
        class = it.value >= 50 and "large" or "small",
      }
    end
    return out
  elseif name == "parallel_fanout" then
    local values, branches = {}, {}
    for k = 0, BRANCHES - 1 do
      values[k + 1] = BASE + k
      branches[k + 1] = k
    end
    return { i = size, n = size, base = BASE,
             fan = { values = values, branches = branches, iter = size - 1 } }
  elseif name == "payload_heavy" then
    return { counter = { i = size, n = size }, payload = { version = size, records = payload() } }
  elseif name == "many_executions" then
    local list = {}
    for k = 0, size - 1 do
      list[k + 1] = { id = k, name = "order-" .. k, price = { amount = k + 100 }, status = "ok" }
    end
    return list
  end
  error("unknown workload '" .. tostring(name) .. "'", 2)
end

--- States entered (every Map iteration's and Parallel branch's states
-- included; many_executions: summed over the executions).
function M.transitions(name, size)
  if name == "pass_chain" then return 3 * size + 2 end
  if name == "map_inline" then return 1 + 3 * size end
  if name == "parallel_fanout" then return 2 + size * (1 + 3 * BRANCHES + 2) end
  if name == "task_calls" then return 2 + size * (TASK_STATES + 2) end
  if name == "payload_heavy" then return 3 * size + 1 end
  if name == "many_executions" then return 5 * size end
  error("unknown workload '" .. tostring(name) .. "'", 2)
end

return M
