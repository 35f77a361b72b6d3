-- A game-loop host: several executions advance with one engine:step() per
-- frame while their tasks complete asynchronously, frames later, the way a
-- game's systems (pathfinding, an animation, a server reply) answer.
--
--   lua5.4 examples/game_loop.lua      (after `make`)
local orchestra = require "orchestra"

local engine = orchestra.engine { clock = "virtual", start_time = 1735689600000, seed = 7 }

-- Work the "world" finishes later: token -> {frame due, result}.
local inbox = {}

-- The NPC asks the pathfinder for a route; the answer comes 3 frames later.
engine:handler("game:pathfind", function(input, ctx)
  inbox[ctx.Task.Token] = { due = input.frame + 3,
                            result = { route = { input.from, "bridge", input.to } } }
  return orchestra.pending
end)

-- Playing an animation is a handler that yields until its clip has played.
engine:handler("game:animate", function(input)
  for _ = 1, input.frames do coroutine.yield() end
  return { played = input.clip }
end)

local npc = engine:load([[{
  "StartAt": "FindRoute",
  "States": {
    "FindRoute": {"Type": "Task", "Resource": "game:pathfind",
                  "Parameters": {"from.$": "$.at", "to.$": "$.goal", "frame.$": "$.frame"},
                  "ResultPath": "$.path", "Next": "Walk"},
    "Walk": {"Type": "Task", "Resource": "game:animate",
             "Parameters": {"clip": "walk", "frames": 2}, "ResultPath": null, "Next": "Arrived"},
    "Arrived": {"Type": "Pass", "Parameters": {"who.$": "$.name", "route.$": "$.path.route"},
                "End": true}
  }
}]], { name = "Npc" })

local executions = {}
for i, name in ipairs({ "guard", "merchant", "cat" }) do
  executions[i] = npc:start({ name = name, at = "gate", goal = "market", frame = i - 1 },
    { name = name })
end

local frame = 0
local function all_done()
  for _, ex in ipairs(executions) do
    if ex.status == "RUNNING" then return false end
  end
  return true
end

while not all_done() and frame < 100 do
  -- the world answers what is due this frame
  for token, job in pairs(inbox) do
    if job.due <= frame then
      inbox[token] = nil
      engine:task_success(token, job.result)
    end
  end
  local runnable = engine:step()   -- never blocks: a bounded amount of work
  local states = {}
  for _, ex in ipairs(executions) do states[#states + 1] = ex.name .. "=" .. ex.status end
  print(("frame %2d  runnable %d  %s"):format(frame, runnable, table.concat(states, " ")))
  frame = frame + 1
end

for _, ex in ipairs(executions) do
  print(ex.name .. ": " .. ex:output_json())
end
