-- Executor defects found by independent checks (issue 8, part 3):
-- States.DataLimitExceeded as AWS recorded it, S3 stand-ins that behave
-- like S3 for a missing bucket, what ex:wait() and the CLI say when a
-- .waitForTaskToken task waits for its token, and the resource recorded
-- for states:startExecution.sync:2.
local orchestra = require "orchestra"
local helper = require "spec.helper"
local json = orchestra.json

local START = 1700000000000

local function engine(opts)
  opts = opts or {}
  opts.clock = "virtual"
  opts.start_time = START
  opts.seed = 1
  return orchestra.engine(opts)
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return t
end

local function find_event(ex, type)
  for ev in ex:events() do
    if ev.type == type then return ev end
  end
end

-- The cause Step Functions gives for a result over 256 KiB, naming `who`:
-- the state for a state's own output, the function ARN for a Lambda ARN
-- resource, 'lambda' for arn:aws:states:::lambda:invoke (LocalStack's
-- tests/aws/services/stepfunctions/v2/error_handling/
-- test_states_errors.snapshot.json, recorded against AWS on 21-03-2024).
local function too_big(who)
  return "The state/task '" .. who .. "' returned a result with a size exceeding "
    .. "the maximum number of bytes service limit."
end

local BIG = string.rep("a", 257 * 1024) -- over 262,144 bytes once quoted
local FN = "arn:aws:lambda:us-east-1:123456789012:function:large_output"

describe("States.DataLimitExceeded", function()
  -- The recording's machines: InvokeLambda catches States.DataLimitExceeded
  -- (and States.ALL) into Pass states, or States.ALL alone.
  local function catching(resource, catchers)
    local task = { Type = "Task", Resource = resource, Next = "ProcessResult", Catch = catchers,
      Parameters = { ["FunctionName.$"] = "$.FunctionName", ["Payload.$"] = "$.Payload" } }
    local def = { StartAt = "InvokeLambda", States = {
      InvokeLambda = task,
      ProcessResult = { Type = "Pass", End = true },
      HandleGeneralError = { Type = "Pass", End = true } } }
    if #catchers > 1 then def.States.HandleDataLimitExceeded = { Type = "Pass", End = true } end
    return def
  end
  local BOTH = {
    { ErrorEquals = { "States.DataLimitExceeded" }, Next = "HandleDataLimitExceeded" },
    { ErrorEquals = { "States.ALL" }, Next = "HandleGeneralError" } }
  local ALL_ONLY = { { ErrorEquals = { "States.ALL" }, Next = "HandleGeneralError" } }

  local function run_big(resource, catchers)
    local e = engine()
    e:handler(resource, function() return BIG end)
    local ex = e:load(catching(resource, catchers)):start({ FunctionName = "large_output", Payload = orchestra.null })
    ex:wait()
    return ex
  end

  it("fails a Pass state whose Result is over 256 KiB, naming the state", function()
    local e = engine()
    local ex = e:load({ StartAt = "State_1", States = { State_1 = {
      Type = "Pass", Result = { Arg1 = BIG }, End = true } } }):start({})
    assert.equal("FAILED", ex:wait())
    assert.equal("States.DataLimitExceeded", ex.error)
    assert.equal(too_big("State_1"), ex.cause)
    assert.same({ "ExecutionStarted", "PassStateEntered", "ExecutionFailed" }, types(ex))
  end)

  it("fails any state whose output is over the limit, not only tasks (a Pass with Parameters)", function()
    local e = engine({ max_payload_bytes = 1000 })
    local ex = e:load({ StartAt = "Grow", States = { Grow = { Type = "Pass",
      Parameters = { ["a.$"] = "$.s", ["b.$"] = "$.s", ["c.$"] = "$.s" }, End = true } } })
      :start({ s = string.rep("x", 400) })
    assert.equal("FAILED", ex:wait())
    assert.equal("States.DataLimitExceeded", ex.error)
    assert.equal(too_big("Grow"), ex.cause)
  end)

  it("is caught by a Catch naming it, for a Lambda function ARN, with the ARN in the cause", function()
    local ex = run_big(FN, BOTH)
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ Error = "States.DataLimitExceeded", Cause = too_big(FN) }, ex.output)
    assert.same({ "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
      "LambdaFunctionStarted", "LambdaFunctionFailed", "TaskStateExited", "PassStateEntered",
      "PassStateExited", "ExecutionSucceeded" }, types(ex))
    local failed = find_event(ex, "LambdaFunctionFailed").lambdaFunctionFailedEventDetails
    assert.equal("States.DataLimitExceeded", failed.error)
    assert.equal(too_big(FN), failed.cause)
    assert.equal("HandleDataLimitExceeded", find_event(ex, "PassStateEntered").stateEnteredEventDetails.name)
  end)

  it("is caught by a Catch naming it, for lambda:invoke, with 'lambda' in the cause", function()
    local ex = run_big("arn:aws:states:::lambda:invoke", BOTH)
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ Error = "States.DataLimitExceeded", Cause = too_big("lambda") }, ex.output)
    assert.same({ "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
      "TaskFailed", "TaskStateExited", "PassStateEntered", "PassStateExited",
      "ExecutionSucceeded" }, types(ex))
    local failed = find_event(ex, "TaskFailed").taskFailedEventDetails
    assert.equal("States.DataLimitExceeded", failed.error)
    assert.equal(too_big("lambda"), failed.cause)
    assert.equal("lambda", failed.resourceType)
    assert.equal("invoke", failed.resource)
    assert.equal("HandleDataLimitExceeded", find_event(ex, "PassStateEntered").stateEnteredEventDetails.name)
  end)

  -- NOTE: issue 8 says States.ALL alone does not catch a task's
  -- DataLimitExceeded (AWS's documentation says so too), but AWS's own
  -- recording (test_*_catch_state_all_data_limit_exceeded_on_large_utf8_response
  -- in the snapshot above, machine task_service_lambda_invoke_catch_all:
  -- one catcher, States.ALL -> HandleGeneralError) enters HandleGeneralError
  -- and SUCCEEDS, for lambda:invoke and for a Lambda function ARN alike.
  -- These two cases follow the recording.
  it("is caught by States.ALL alone for lambda:invoke, as AWS recorded it", function()
    local ex = run_big("arn:aws:states:::lambda:invoke", ALL_ONLY)
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ Error = "States.DataLimitExceeded", Cause = too_big("lambda") }, ex.output)
    assert.equal("HandleGeneralError", find_event(ex, "PassStateEntered").stateEnteredEventDetails.name)
  end)

  it("is caught by States.ALL alone for a Lambda function ARN, as AWS recorded it", function()
    local ex = run_big(FN, ALL_ONLY)
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.same({ Error = "States.DataLimitExceeded", Cause = too_big(FN) }, ex.output)
    assert.equal("HandleGeneralError", find_event(ex, "PassStateEntered").stateEnteredEventDetails.name)
  end)
end)

describe("S3 stand-ins and a missing bucket", function()
  local root

  before_each(function()
    root = helper.tmpdir()
  end)
  after_each(function()
    os.execute("rm -rf " .. helper.shell_quote(root))
  end)

  local function exists(path)
    local ok = os.execute("test -e " .. helper.shell_quote(path))
    return ok == true or ok == 0
  end

  local function dmap(fields)
    local st = { Type = "Map", End = true, ItemProcessor = {
      ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" },
      StartAt = "P", States = { P = { Type = "Pass", End = true } } } }
    for k, v in pairs(fields) do st[k] = v end
    return { StartAt = "M", States = { M = st } }
  end

  local function run(def)
    local e = orchestra.engine({ clock = "virtual", seed = 1, data_dir = root })
    local ex = e:load(def):start({})
    ex:wait()
    return ex
  end

  it("fails s3:listObjectsV2 on a bucket whose directory does not exist with States.ItemReaderFailed", function()
    local ex = run(dmap({ ItemReader = { Resource = "arn:aws:states:::s3:listObjectsV2",
      Parameters = { Bucket = "nobucket", Prefix = "logs/" } } }))
    assert.equal("FAILED", ex.status)
    assert.equal("States.ItemReaderFailed", ex.error)
    assert.truthy(ex.cause and ex.cause:find("The specified bucket does not exist", 1, true), ex.cause)
  end)

  it("still lists zero objects for an existing bucket with nothing under the prefix", function()
    os.execute("mkdir -p " .. helper.shell_quote(root .. "/bkt"))
    local ex = run(dmap({ ItemReader = { Resource = "arn:aws:states:::s3:listObjectsV2",
      Parameters = { Bucket = "bkt", Prefix = "nothing/" } } }))
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal("[]", ex:output_json())
  end)

  it("fails s3:getObject on a bucket whose directory does not exist with States.ItemReaderFailed", function()
    local ex = run(dmap({ ItemReader = { Resource = "arn:aws:states:::s3:getObject",
      ReaderConfig = { InputType = "JSON" }, Parameters = { Bucket = "nobucket", Key = "items.json" } } }))
    assert.equal("FAILED", ex.status)
    assert.equal("States.ItemReaderFailed", ex.error)
    assert.truthy(ex.cause and ex.cause:find("The specified bucket does not exist", 1, true), ex.cause)
  end)

  it("fails a ResultWriter to a missing bucket with States.ResultWriterFailed and creates nothing", function()
    os.execute("mkdir -p " .. helper.shell_quote(root .. "/bkt"))
    local f = assert(io.open(root .. "/bkt/items.json", "wb"))
    f:write("[1, 2, 3]")
    f:close()
    local ex = run(dmap({
      ItemReader = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = { InputType = "JSON" },
        Parameters = { Bucket = "bkt", Key = "items.json" } },
      ResultWriter = { Resource = "arn:aws:states:::s3:putObject",
        Parameters = { Bucket = "nobucket", Prefix = "results" } } }))
    assert.equal("FAILED", ex.status)
    assert.equal("States.ResultWriterFailed", ex.error)
    assert.truthy(ex.cause and ex.cause:find("The specified bucket does not exist", 1, true), ex.cause)
    assert.is_false(exists(root .. "/nobucket"))
  end)
end)

describe("a .waitForTaskToken task whose token never comes", function()
  local RES = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
  local DEF = { StartAt = "Ask", States = { Ask = { Type = "Task", Resource = RES,
    Parameters = { ["token.$"] = "$$.Task.Token" }, End = true } } }

  it("ends ex:wait() RUNNING with a message that it waits for a task token", function()
    local e = engine()
    e:handler(RES, function() return { MessageId = "m-1" } end)
    local ex = e:load(DEF):start({})
    local status, why = ex:wait()
    assert.equal("RUNNING", status)
    assert.is_string(why)
    assert.matches("waiting for a task token", why)
    assert.is_nil(why:find("no handler", 1, true))
  end)

  it("makes `orchestra run` say it waits for a task token, not that no handler answers", function()
    local dir = helper.tmpdir()
    helper.write(dir .. "/def.json", json.encode(DEF))
    helper.write(dir .. "/tasks.lua", "return { [\"" .. RES .. "\"] = function() return { MessageId = \"m-1\" } end }\n")
    local status, out, err = helper.orchestra("run " .. helper.shell_quote(dir .. "/def.json")
      .. " --tasks " .. helper.shell_quote(dir .. "/tasks.lua"))
    os.execute("rm -rf " .. helper.shell_quote(dir))
    assert.equal(1, status, err)
    assert.equal("", out)
    assert.matches("waiting for a task token", err)
    assert.is_nil(err:find("no handler", 1, true), err)
  end)
end)

describe("the resource recorded for states:startExecution", function()
  local function scheduled(resource)
    local e = engine()
    e:load({ StartAt = "C", States = { C = { Type = "Pass", End = true } } }, { name = "Child" })
    local ex = e:load({ StartAt = "Start", States = { Start = { Type = "Task", Resource = resource,
      Parameters = { StateMachineArn = "Child", Input = {} }, End = true } } }):start({})
    ex:wait()
    local ev = find_event(ex, "TaskScheduled")
    return ev and ev.taskScheduledEventDetails or {}, ex
  end

  it("is type states, resource startExecution.sync:2 for the .sync:2 form", function()
    local d, ex = scheduled("arn:aws:states:::states:startExecution.sync:2")
    assert.equal("SUCCEEDED", ex.status, ex.cause)
    assert.equal("states", d.resourceType)
    assert.equal("startExecution.sync:2", d.resource)
    local s = find_event(ex, "TaskSucceeded").taskSucceededEventDetails
    assert.equal("states", s.resourceType)
    assert.equal("startExecution.sync:2", s.resource)
  end)

  it("is type states with the action and its suffix for the other forms", function()
    for _, form in ipairs({ "startExecution", "startExecution.sync" }) do
      local d, ex = scheduled("arn:aws:states:::states:" .. form)
      assert.equal("SUCCEEDED", ex.status, ex.cause)
      assert.equal("states", d.resourceType)
      assert.equal(form, d.resource)
    end
  end)
end)
