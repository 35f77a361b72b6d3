-- The command line as a new user meets it (#9 findings 5-8): usage errors
-- are one line and exit 64, outputs that cannot be written fail the run,
-- "-" is standard input/output, every command has its --help, and messages
-- name the file.
local h = require "spec.helper"
local q = h.shell_quote

local PASS = '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'

describe("orchestra command line", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.run("rm -rf " .. q(dir)) end)

  local function file(name, text)
    h.write(dir .. "/" .. name, text)
    return dir .. "/" .. name
  end

  it("gives a one-line usage error and exit 64 for --history-retention last:0", function()
    local d = file("def.json", PASS)
    local status, out, err = h.orchestra("run " .. q(d) .. " --history-retention last:0")
    assert.equal(64, status)
    assert.equal("", out)
    assert.equal("orchestra: run: --history-retention must be full, none or last:N with N >= 1, "
      .. "not 'last:0'\n", err)
  end)

  it("exits 73 when the history cannot be written", function()
    local d = file("def.json", PASS)
    local status, out, err = h.orchestra("run " .. q(d) .. " --history /nonexistent/dir/h.json")
    assert.equal(73, status)
    assert.equal("{}\n", out)
    assert.equal("orchestra: run: the history: cannot write /nonexistent/dir/h.json: "
      .. "No such file or directory\n", err)
  end)

  it("reads '-' as standard input and writes --history - to standard output", function()
    local d = file("def.json", PASS)
    local status, out, err = h.run("echo '{\"a\":1}' | " .. h.lua_env() .. h.LUA .. " "
      .. h.ROOT .. "/bin/orchestra run " .. q(d) .. " --input -")
    assert.equal(0, status, err)
    assert.equal('{"a":1}\n', out)
    status, out, err = h.run(h.lua_env() .. h.LUA .. " " .. h.ROOT .. "/bin/orchestra run - "
      .. "--input-json '{\"b\":2}' --history - < " .. q(d))
    assert.equal(0, status, err)
    local history, output = out:match("^(.*}\n)({.-}\n)$")
    assert.equal('{"b":2}\n', output)
    local events = require("orchestra").json.decode(history).events
    assert.equal("ExecutionStarted", events[1].type)
    assert.equal("ExecutionSucceeded", events[#events].type)
    status, out = h.run("cat " .. q(d) .. " | " .. h.lua_env() .. h.LUA .. " "
      .. h.ROOT .. "/bin/orchestra validate -")
    assert.equal(0, status)
    assert.equal("-: valid\n", out)
  end)

  for _, cmd in ipairs({ "run", "validate", "graph" }) do
    it("prints the usage of '" .. cmd .. "' with --help and help " .. cmd, function()
      local status, out, err = h.orchestra(cmd .. " --help")
      assert.equal(0, status)
      assert.equal("", err)
      assert.matches("^usage: orchestra " .. cmd .. " ", out)
      local status2, out2 = h.orchestra("help " .. cmd)
      assert.equal(0, status2)
      assert.equal(out, out2)
      assert.equal(out, select(2, h.orchestra(cmd .. " some.json -h")))
    end)
  end

  it("lists the commands from its table, so added commands appear in --help", function()
    local cli = require "orchestra.cli"
    local _, out = h.orchestra("--help")
    for _, name in ipairs(cli.order) do
      assert.matches("\n  " .. name .. " +" .. cli.commands[name].summary:gsub("%p", "%%%0"), out)
    end
    local status, _, err = h.orchestra("help frobnicate")
    assert.equal(64, status)
    assert.equal("orchestra: unknown command 'frobnicate' (see orchestra --help)\n", err)
  end)

  it("says 'cannot open' once for a missing --tasks file", function()
    local d = file("def.json", PASS)
    local status, out, err = h.orchestra("run " .. q(d) .. " --tasks nope.lua")
    assert.equal(66, status)
    assert.equal("", out)
    assert.equal("orchestra: run: cannot open nope.lua: No such file or directory\n", err)
  end)

  it("prints an invalid definition's problems the same way in run and validate, file first", function()
    local d = file("bad.json", '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}')
    local s1, o1, e1 = h.orchestra("validate " .. q(d))
    local s2, o2, e2 = h.orchestra("run " .. q(d))
    assert.equal(2, s1)
    assert.equal(2, s2)
    assert.equal("", o1)
    assert.equal("", o2)
    assert.equal(d .. ": /States/A/Next: Next names state 'B', which does not exist\n", e1)
    assert.equal(e1, e2)
    local j = file("bad2.json", "{bad")
    s1, _, e1 = h.orchestra("validate " .. q(j))
    s2, _, e2 = h.orchestra("run " .. q(j))
    assert.equal(2, s1)
    assert.equal(2, s2)
    assert.equal(j .. ": (root): invalid JSON at byte 1 (line 1, column 2): unexpected character "
      .. "'b' (expected a string key or '}'); near: { >>> bad\n", e1)
    assert.equal(e1, e2)
  end)

  it("names the file it cannot read", function()
    local status, _, err = h.orchestra("validate /no/such.json")
    assert.equal(66, status)
    assert.equal("orchestra: validate: cannot read /no/such.json: No such file or directory\n", err)
  end)
end)

describe("orchestra history", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.run("rm -rf " .. q(dir)) end)

  -- A run whose task fails twice (retried once, then caught) and a Fail.
  local function history()
    h.write(dir .. "/def.json", [[{"StartAt":"Charge","States":{
      "Charge":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:charge",
        "Retry":[{"ErrorEquals":["Busy"],"IntervalSeconds":2,"MaxAttempts":1}],
        "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Declined"}],"End":true},
      "Declined":{"Type":"Fail","Error":"Declined","Cause":"card"}}}]])
    h.write(dir .. "/tasks.lua", [[return { ["arn:aws:lambda:us-east-1:1:function:charge"] =
      function() error({ Error = "Busy", Cause = "try again" }) end }]])
    local status, _, err = h.orchestra("run " .. q(dir .. "/def.json") .. " --tasks "
      .. q(dir .. "/tasks.lua") .. " --history " .. q(dir .. "/h.json"))
    assert.equal(1, status, err)
    return dir .. "/h.json"
  end

  it("prints one line per event with failures and retries marked, then a summary", function()
    local status, out, err = h.orchestra("history " .. q(history()))
    assert.equal(0, status, err)
    assert.equal("", err)
    local lines = {}
    for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    assert.equal("  ID        TIME          TYPE                     STATE     PAYLOAD", lines[1])
    assert.equal("   1     +0.000s          ExecutionStarted                   {}", lines[2])
    assert.equal("   2     +0.000s          TaskStateEntered         Charge    {}", lines[3])
    assert.equal("   5     +0.000s  FAILED  LambdaFunctionFailed     Charge    Busy: try again", lines[6])
    assert.equal("   6     +2.000s  RETRY   LambdaFunctionScheduled  Charge    {}", lines[7])
    assert.equal("   8     +2.000s  FAILED  LambdaFunctionFailed     Charge    Busy: try again", lines[9])
    assert.equal("  10     +2.000s          FailStateEntered         Declined  "
      .. '{"Error":"Busy","Cause":"try again"}', lines[11])
    assert.equal("  11     +2.000s  FAILED  ExecutionFailed                    Declined: card", lines[12])
    assert.equal("", lines[13])
    assert.equal("status: FAILED   duration: 2.000 s   transitions: 2   events: 11", lines[14])
    assert.equal("tasks:", lines[15])
    assert.equal("      2  arn:aws:lambda:us-east-1:1:function:charge", lines[16])
    assert.equal(16, #lines)
  end)

  it("prints the same as JSON with --format json, and reads '-'", function()
    local file = history()
    local status, out, err = h.run("cat " .. q(file) .. " | " .. h.lua_env() .. h.LUA .. " "
      .. h.ROOT .. "/bin/orchestra history - --format json")
    assert.equal(0, status, err)
    local v = require("orchestra").json.decode(out)
    assert.equal(11, #v.events)
    assert.same({ id = 6, offset = 2, mark = "RETRY", type = "LambdaFunctionScheduled",
      state = "Charge", payload = "{}" }, v.events[6])
    assert.same({ status = "FAILED", duration = 2, transitions = 2, events = 11,
      tasks = { ["arn:aws:lambda:us-east-1:1:function:charge"] = 2 } }, v.summary)
  end)

  it("says what is wrong with its input", function()
    h.write(dir .. "/x.json", '{"a":1}')
    local status, _, err = h.orchestra("history " .. q(dir .. "/x.json"))
    assert.equal(64, status)
    assert.equal("orchestra: history: " .. dir .. '/x.json is not an execution history ({"events": [...]})\n', err)
    status, _, err = h.orchestra("history /no/such.json")
    assert.equal(66, status)
    assert.equal("orchestra: history: cannot read /no/such.json: No such file or directory\n", err)
    status, _, err = h.orchestra("history " .. q(dir .. "/x.json") .. " --format yaml")
    assert.equal(64, status)
    assert.equal("orchestra: history: --format must be table or json, not 'yaml'\n", err)
  end)
end)
