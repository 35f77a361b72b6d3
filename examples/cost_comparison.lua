-- The seed's comparison, recomputed: an agent doing tasks of 5 reasoning
-- steps (2,000 input + 500 output tokens a step, Claude 3.5 Sonnet at $3 /
-- $15 per million tokens) against Step Functions Standard ($0.025 per
-- 1,000 transitions). For each figure the seed published, the output says
-- whether it follows from the stated prices or which extra assumption
-- reproduces it, then shows the same table at current prices.
--
--   lua5.4 examples/cost_comparison.lua      (after `make`)
local orchestra = require "orchestra"
local cost = orchestra.cost

local usd = cost.usd

-- What the seed stated, and the figures it published (rows: tasks a month;
-- the last row is labelled "1,000,000 simple automation steps").
local volumes = { 1000, 10000, 100000, 1000000 }
local seed_agent = { 90, 900, 9000, 90000 }
local seed_sfn = { 0.125, 1.25, 12.50, 25 }

local function agent(model, input_tokens, steps)
  return { agent = { model = model, steps = steps or 5, input_tokens = input_tokens or 2000,
    output_tokens = 500 } }
end
local function sfn(transitions, free_tier)
  return { workflow = { transitions = transitions, free_tier = free_tier or false } }
end

-- Each variant prices the row's volume; the first is the seed's own
-- statement, the rest are the extra assumptions we test against its
-- figures.
local agent_variants = {
  { "stated: 5 x (2,000 in + 500 out) at $3/$15", agent("claude-3-5-sonnet") },
  { "+1,500 input tokens a step (3,500: system prompt, tool schemas)", agent("claude-3-5-sonnet", 3500) },
  { "7 model calls (5 steps + pre- and post-processing)", agent("claude-3-5-sonnet", 2000, 7) },
  { "the row counts single steps, not 5-step tasks", agent("claude-3-5-sonnet", 2000, 1) },
}
local sfn_variants = {
  { "stated: 10 transitions per execution", sfn(10) },
  { "10 transitions, after the 4,000 free a month", sfn(10, true) },
  { "5 transitions per execution", sfn(5) },
  { "1 transition per row unit (1M transitions)", sfn(1) },
}

local function matches(variants, volume, figure)
  local hits = {}
  for _, v in ipairs(variants) do
    local x = cost.monthly(v[2], volume)
    -- the seed rounds ("about"): a figure within 2 % is a match
    if math.abs(x - figure) <= 0.02 * figure then hits[#hits + 1] = v[1] end
  end
  return hits
end

local function verdicts(title, variants, seed)
  print("== " .. title)
  local rows = {}
  for i, n in ipairs(volumes) do
    local stated = cost.monthly(variants[1][2], n)
    local hits = matches(variants, n, seed[i])
    local verdict
    if hits[1] == variants[1][1] then
      verdict = "follows from the stated prices"
    elseif #hits > 0 then
      verdict = "needs an extra assumption: " .. table.concat(hits, "; or ")
    else
      verdict = "reproduced by none of the assumptions tried"
    end
    rows[#rows + 1] = { cost.count(n), usd(seed[i]), usd(stated), verdict }
  end
  io.write(cost.format_table({ "per month", "seed says", "stated inputs give", "verdict" }, rows,
    { [1] = true, [2] = true, [3] = true }))
  print()
end

local per_task = cost.scenario(agent("claude-3-5-sonnet")).per_execution.total
print(("agent task at the stated prices: 5 x (2,000 x $3 + 500 x $15) / 10^6 = %s (the seed says about $0.09)")
  :format(usd(per_task)))
print(("Step Functions at the stated 10 transitions: %s per execution"):format(
  usd(cost.scenario(sfn(10)).per_execution.total)))
print()
verdicts("agent column", agent_variants, seed_agent)
print(("The last row is labelled \"1,000,000 simple automation steps\": priced as single steps at"
  .. "\nthe stated tokens it is %s; %s prices one million 5-step tasks at $0.09."):format(
  usd(cost.monthly(agent_variants[4][2], 1000000)), usd(seed_agent[4])))
print()
verdicts("Step Functions column", sfn_variants, seed_sfn)
print("So the Step Functions rows use three transition counts: 10 in the text, 5 in rows 1-3,")
print("1 in the last row. With the 4,000 free transitions a month taken off, 10 transitions give")
local free = {}
for _, n in ipairs(volumes) do free[#free + 1] = usd(cost.monthly(sfn(10, true), n)) end
print(table.concat(free, " / ") .. ".")
print()

-- At current prices: Claude 3.5 Sonnet v2 on Bedrock moved to Public
-- Extended Access pricing ($6 / $30) on 2025-12-01.
local v2 = cost.catalog():model("claude-3-5-sonnet-v2")
print(("== current prices: %s at $%g / $%g per million tokens (as of %s)"):format(
  v2.name, v2.input * 1e6, v2.output * 1e6, v2.as_of))
local cmp = cost.compare({
  { name = "agent, 3.5 Sonnet $3/$15", agent = agent("claude-3-5-sonnet").agent },
  { name = "agent, 3.5 Sonnet v2 $6/$30", agent = agent("claude-3-5-sonnet-v2").agent },
  { name = "agent, Claude Haiku 4.5", agent = agent("claude-haiku-4-5").agent },
  { name = "Standard, 10 transitions", workflow = { transitions = 10 } },
  { name = "Express, 1 s at 64 MB", workflow = { type = "EXPRESS", duration_ms = 1000, memory_mb = 64 } },
}, { volumes = volumes })
io.write(cmp:table())
print()
print("Not included anywhere: the work of the tasks themselves (Lambda, Bedrock calls made")
print("by the workflow), billed by those services.")
