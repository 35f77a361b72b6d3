-- What a user of the Lua API sees when a call is wrong (#9): unknown
-- options, argument errors naming the method, machine names, closed
-- executions, integer fields.
local orchestra = require "orchestra"

local PASS = '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'

-- The message of the error f raises, without its "file:line: " prefix.
local function message(f)
  local ok, err = pcall(f)
  assert.is_false(ok, "the call should fail")
  if type(err) == "table" then return err end
  return (tostring(err):gsub("^[^:]*:%d+: ", ""))
end

local function engine(opts)
  opts = opts or {}
  opts.clock = "virtual"
  return orchestra.engine(opts)
end

describe("unknown options are errors", function()
  it("orchestra.engine names a misspelled option and the near one", function()
    assert.equal("orchestra.engine: unknown option 'clok' (did you mean 'clock'?)",
      message(function() return orchestra.engine { clok = "virtual" } end))
    local err = message(function() return orchestra.engine { frobnicate = 1 } end)
    assert.matches("^orchestra.engine: unknown option 'frobnicate' %(known: clock, start_time, ", err)
    assert.equal("orchestra.engine: option 'clock' must be a string, not number",
      message(function() return orchestra.engine { clock = 5 } end))
    assert.equal("orchestra.engine: option names are strings, not number",
      message(function() return orchestra.engine { "virtual" } end))
  end)

  it("engine:load and machine:start refuse unknown options", function()
    local e = engine()
    assert.equal("engine:load: unknown option 'nmae' (did you mean 'name'?)",
      message(function() return e:load(PASS, { nmae = "X" }) end))
    local m = e:load(PASS)
    assert.equal("machine:start: unknown option 'nmae' (did you mean 'name'?)",
      message(function() return m:start({}, { nmae = "x" }) end))
    assert.equal("machine:start_json: unknown option 'input' (known: name, budget_usd)",
      message(function() return m:start_json("{}", { input = "x" }) end))
  end)
end)

describe("argument errors name the method", function()
  it("counts arguments after self, under every Lua", function()
    local e = engine()
    assert.equal("bad argument #1 to 'engine:task_success' (string expected, got nil)",
      message(function() return e:task_success(nil, {}) end))
    assert.equal("bad argument #1 to 'engine:task_failure' (string expected, got table)",
      message(function() return e:task_failure({}) end))
    assert.equal("bad argument #1 to 'engine:load' (JSON text or table expected, got number)",
      message(function() return e:load(42) end))
    assert.equal("bad argument #2 to 'engine:load' (table expected, got string)",
      message(function() return e:load(PASS, "Name") end))
    assert.equal("bad argument #2 to 'engine:handler' (function expected, got number)",
      message(function() return e:handler("r", 1) end))
    assert.equal("calling 'engine:step' on bad self (orchestra.Engine expected, got number)",
      message(function() return e.step(42) end))
    local m = e:load(PASS)
    assert.equal("bad argument #1 to 'machine:start_json' (string expected, got nil)",
      message(function() return m:start_json() end))
    local ex = m:start({})
    assert.equal("bad argument #1 to 'execution:stop' (string expected, got table)",
      message(function() return ex:stop({}) end))
    assert.equal("bad argument #1 to 'orchestra.engine' (table expected, got string)",
      message(function() return orchestra.engine("virtual") end))
  end)

  it("says when the engine is closed", function()
    local e = engine()
    local m = e:load(PASS)
    e:close()
    assert.equal("engine:step: the engine is closed", message(function() return e:step() end))
    assert.equal("machine:start: the machine's engine is closed",
      message(function() return m:start({}) end))
  end)
end)

describe("machine names", function()
  it("follow Step Functions' rules", function()
    local e = engine()
    for _, bad in ipairs({ "has space", "", string.rep("a", 81), "a/b", "a:b", "tab\t" }) do
      local err = message(function() return e:load(PASS, { name = bad }) end)
      assert.equal("InvalidName", err.code)
      assert.matches("^InvalidName: invalid state machine name '", err.message)
    end
    assert.equal("arn:aws:states:us-east-1:123456789012:stateMachine:Ok-name_1",
      e:load(PASS, { name = "Ok-name_1" }).arn)
  end)

  it("are unique per engine: a second Child is refused, so the ARN names one machine", function()
    local e = engine()
    e:load(PASS, { name = "Child" })
    local err = message(function() return e:load(PASS, { name = "Child" }) end)
    assert.equal("StateMachineAlreadyExists", err.code)
    assert.equal("StateMachineAlreadyExists: this engine already has a state machine "
      .. "named 'Child' (its ARN would name both)", err.message)
  end)

  it("are numbered when not given", function()
    local e = engine()
    assert.equal("StateMachine", e:load(PASS).name)
    assert.equal("StateMachine-2", e:load(PASS).name)
    assert.equal("StateMachine-3", e:load(PASS).name)
  end)
end)

describe("a closed execution", function()
  it("keeps its plain fields readable and names what is gone", function()
    local e = engine()
    local ex = e:load(PASS, { name = "M" }):start({ a = 1 }, { name = "run-1" })
    ex:wait()
    ex:close()
    assert.equal("SUCCEEDED", ex.status)
    assert.equal("run-1", ex.name)
    assert.equal("arn:aws:states:us-east-1:123456789012:execution:M:run-1", ex.arn)
    assert.equal(2, ex.transitions + 1)
    assert.is_nil(ex.error)
    assert.equal("execution.output: the execution is closed (execution:close() released it); "
      .. "only status, name, arn, error, cause, parent_arn and transitions stay readable "
      .. "after execution:close()", message(function() return ex.output end))
    assert.equal("execution:history: the execution is closed",
      message(function() return ex:history() end))
  end)

  it("that was running reads as ABORTED", function()
    local e = engine()
    e:handler("wait", function() return orchestra.pending end)
    local ex = e:load('{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"wait","End":true}}}')
      :start({})
    e:run()
    assert.equal("RUNNING", ex.status)
    ex:close()
    assert.equal("ABORTED", ex.status)
  end)
end)

describe("integer fields", function()
  it("ex.transitions, engine:now() and engine:next_deadline() are integers", function()
    local e = orchestra.engine { clock = "virtual", start_time = 1700000000000 }
    local ex = e:load('{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"P"},'
      .. '"P":{"Type":"Pass","End":true}}}'):start({})
    assert.equal("0", tostring(e:next_deadline()))
    ex:wait()
    assert.equal("2", tostring(ex.transitions))
    assert.equal("1700000005000", tostring(e:now()))
    if math.type then
      assert.equal("integer", math.type(ex.transitions))
      assert.equal("integer", math.type(e:now()))
    end
  end)
end)

describe("managing executions (ListExecutions, DescribeExecution)", function()
  local WAIT = '{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"wait","End":true}}}'

  local function setup()
    local e = engine()
    e:handler("wait", function() return orchestra.pending end)
    local a = e:load(PASS, { name = "A" })
    local b = e:load(WAIT, { name = "B" })
    local a1 = a:start({}, { name = "one" })
    local b1 = b:start({}, { name = "one" })
    local a2 = a:start({}, { name = "two" })
    e:run()
    return e, a, b, a1, b1, a2
  end

  it("lists them newest first, by status and machine, as the same objects", function()
    local e, a, b, a1, b1, a2 = setup()
    local all = e:executions()
    assert.equal(3, #all)
    assert.equal(a2, all[1])
    assert.equal(b1, all[2])
    assert.equal(a1, all[3])
    assert.same({ b1 }, e:executions { status = "RUNNING" })
    assert.same({ a2, a1 }, e:executions { machine = a })
    assert.same({ a2, a1 }, e:executions { machine = "A" })
    assert.same({ b1 }, e:executions { machine = b.arn, status = "RUNNING" })
    assert.same({}, e:executions { machine = a, status = "FAILED" })
    assert.equal("engine:executions: option 'status' must be RUNNING, SUCCEEDED, FAILED, "
      .. "TIMED_OUT or ABORTED, not 'DONE'",
      message(function() return e:executions { status = "DONE" } end))
    assert.equal("engine:executions: unknown option 'state' (did you mean 'status'?)",
      message(function() return e:executions { state = "RUNNING" } end))
  end)

  it("finds one by ARN or by a name that only one machine uses", function()
    local e, _, _, a1, b1, a2 = setup()
    assert.equal(a2, e:execution("two"))
    assert.equal(a1, e:execution(a1.arn))
    assert.equal(b1, e:execution("arn:aws:states:us-east-1:123456789012:execution:B:one"))
    assert.is_nil(e:execution("three"))
    assert.equal("engine:execution: 'one' names executions of state machines 'B' and 'A': "
      .. "pass the ARN", message(function() return e:execution("one") end))
  end)

  it("gives executions started inside the engine a userdata that does not release them", function()
    local e = engine()
    e:load(PASS, { name = "Child" })
    local parent = e:load('{"StartAt":"S","States":{"S":{"Type":"Task",'
      .. '"Resource":"arn:aws:states:::states:startExecution.sync:2",'
      .. '"Parameters":{"StateMachineArn":"Child","Name":"kid"},"End":true}}}', { name = "Parent" })
    local p = parent:start({})
    p:wait()
    assert.equal("SUCCEEDED", p.status)
    local kid = e:execution("kid")
    assert.equal("SUCCEEDED", kid.status)
    assert.equal(p.arn, kid.parent_arn)
    kid = nil
    collectgarbage()
    collectgarbage()
    -- still there: the listing's userdata did not close it
    assert.equal("SUCCEEDED", e:execution("kid").status)
    assert.equal(1, #p:children())
  end)
end)
