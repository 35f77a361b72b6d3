-- orchestra agent AGENT.lua "prompt": the answer, then the steps and token
-- usage; failures as {"Error", "Cause"} with exit 1; --history; usage
-- errors exit 64, a missing file 66, an agent file that is no agent 2.
local orchestra = require "orchestra"
local H = require "spec.helper"

local function agent_file(text)
  local dir = H.tmpdir()
  local path = dir .. "/agent.lua"
  H.write(path, text)
  return path
end

describe("orchestra agent", function()
  it("has its own --help, listed by orchestra --help", function()
    local status, out = H.orchestra("agent --help")
    assert.are.equal(0, status)
    assert.matches("^usage: orchestra agent AGENT.lua PROMPT %[%-%-history OUT.json%] %[%-%-clock real|virtual%]\n", out)
    assert.matches("Agent.MaxStepsExceeded", out, 1, true)
    local _, list = H.orchestra("--help")
    assert.matches("\n  agent +run an agent defined in a Lua file", list)
    local s2, out2 = H.orchestra("help agent")
    assert.are.equal(0, s2)
    assert.are.equal(out, out2)
  end)

  it("refuses a bad command line with exit 64", function()
    local status, out, err = H.orchestra("agent spec/fixtures/agents/lookup.lua")
    assert.are.equal(64, status)
    assert.are.equal("", out)
    assert.are.equal("orchestra: agent: expected AGENT.lua and a prompt (see orchestra agent --help)\n", err)
    status, _, err = H.orchestra("agent spec/fixtures/agents/lookup.lua hi --clock fast")
    assert.are.equal(64, status)
    assert.are.equal("orchestra: agent: --clock must be real or virtual, not 'fast'\n", err)
    status, _, err = H.orchestra("agent spec/fixtures/agents/lookup.lua hi --steps 3")
    assert.are.equal(64, status)
    assert.are.equal("orchestra: agent: unknown option '--steps' (see orchestra agent --help)\n", err)
  end)

  it("says which file it cannot read (66) or which is no agent (2)", function()
    local status, _, err = H.orchestra("agent /nonexistent/agent.lua hi")
    assert.are.equal(66, status)
    assert.matches("^orchestra: agent: cannot open /nonexistent/agent.lua", err)
    status, _, err = H.orchestra("agent " .. agent_file("return 42") .. " hi")
    assert.are.equal(2, status)
    assert.matches("must return the table given to engine:agent %(or a function%(engine%) returning it%), not number\n$", err)
    status, _, err = H.orchestra("agent " .. agent_file("return {") .. " hi")
    assert.are.equal(2, status)
    assert.matches("unexpected symbol near", err, 1, true)
  end)

  it("prints the answer, then the steps and the token usage", function()
    local status, out, err = H.orchestra("agent spec/fixtures/agents/lookup.lua 'Where is order 42?'")
    assert.are.equal("", err)
    assert.are.equal(0, status)
    assert.are.equal("Order 42 is shipped.\n\n" ..
                     "steps: 2   tokens: input 50, output 13, cache read 0, cache write 0\n", out)
  end)

  it("writes the invocation's history with --history", function()
    local path = os.tmpname()
    local status = H.orchestra("agent spec/fixtures/agents/lookup.lua hi --clock virtual --history " .. path)
    assert.are.equal(0, status)
    local history = orchestra.json.decode(H.read(path))
    os.remove(path)
    local types = {}
    for _, e in ipairs(history.events) do types[#types + 1] = e.type end
    assert.are.equal("AgentInvocationStarted", types[1])
    assert.are.equal("AgentInvocationSucceeded", types[#types])
    local tool
    for _, e in ipairs(history.events) do
      if e.type == "ToolCallScheduled" then tool = e.toolCallScheduledEventDetails end
    end
    assert.are.equal("lookup_order", tool["gen_ai.tool.name"])
    assert.are.equal("c1", tool["gen_ai.tool.call.id"])
  end)

  it("prints a failure as {Error, Cause} and exits 1, usage so far on stderr", function()
    local path = agent_file([[
      local orchestra = require "orchestra"
      return {
        model = orchestra.models.scripted(function()
          return { tool_calls = { { id = "c" .. math.random(1e9), name = "noop", arguments = { n = math.random(1e9) } } },
                   usage = { input_tokens = 10, output_tokens = 1 } }
        end),
        tools = { noop = { description = "does nothing", schema = { type = "object" },
                           handler = function() return "ok" end } },
        max_steps = 3,
      }]])
    local status, out, err = H.orchestra("agent " .. path .. " loop")
    assert.are.equal(1, status)
    local result = orchestra.json.decode(out)
    assert.are.equal("Agent.MaxStepsExceeded", result.Error)
    assert.are.equal(3, orchestra.json.decode(result.Cause).steps)
    assert.matches("^steps: 3   tokens: input 30, output 3,", err)
  end)

  it("takes a function(engine) that loads the machines its tools use", function()
    local path = agent_file([[
      local orchestra = require "orchestra"
      return function(engine)
        local double = engine:load({ StartAt = "D", States = { D = { Type = "Pass",
          Parameters = { ["n.$"] = "States.MathAdd($.n, $.n)" }, End = true } } }, { name = "double" })
        return {
          model = orchestra.models.scripted { turns = {
            { tool_calls = { { id = "c1", name = "double", arguments = { n = 21 } } } },
            { text = "done" },
          } },
          tools = { double = double },
        }
      end]])
    local status, out, err = H.orchestra("agent " .. path .. " 'double 21' --clock virtual")
    assert.are.equal("", err)
    assert.are.equal(0, status)
    assert.matches("^done\n\nsteps: 2   tokens: input 0, output 0,", out)
  end)
end)
