local h = require "spec.helper"
local orchestra = require "orchestra"

describe("bin/orchestra", function()
  it("prints its version", function()
    local status, out, err = h.orchestra("--version")
    assert.equal(0, status)
    assert.equal("", err)
    assert.equal("orchestra " .. orchestra.VERSION .. " (" .. orchestra.built_for .. ")\n", out)
    assert.equal(0, (h.orchestra("-V")))
  end)

  it("prints help on stdout with --help", function()
    local status, out = h.orchestra("--help")
    assert.equal(0, status)
    assert.matches("^usage: orchestra", out)
    for _, cmd in ipairs({ "run", "validate", "graph", "history", "cost", "agent" }) do
      assert.matches("\n  " .. cmd .. " ", out)
    end
  end)

  it("prints usage on stderr and exits 64 without arguments", function()
    local status, out, err = h.orchestra("")
    assert.equal(64, status)
    assert.equal("", out)
    assert.matches("^usage: orchestra", err)
  end)

  it("hands 'cost' to its sub-commands, which reject unknown ones with 64", function()
    local status, out, err = h.orchestra("cost def.json")
    assert.equal(64, status)
    assert.equal("", out)
    assert.equal("orchestra: cost: unknown command 'def.json' (see orchestra cost --help)\n", err)
  end)

  it("rejects unknown commands and options", function()
    local status, out, err = h.orchestra("frobnicate")
    assert.equal(64, status)
    assert.equal("", out)
    assert.equal("orchestra: unknown command 'frobnicate' (see orchestra --help)\n", err)
    status, _, err = h.orchestra("--frob")
    assert.equal(64, status)
    assert.equal("orchestra: unknown option '--frob' (see orchestra --help)\n", err)
  end)

  describe("run", function()
    local dir
    before_each(function() dir = h.tmpdir() end)
    after_each(function() h.run("rm -rf " .. h.shell_quote(dir)) end)

    local function def(text)
      h.write(dir .. "/def.json", text)
      return h.shell_quote(dir .. "/def.json")
    end

    it("prints the output JSON and exits 0", function()
      local d = def('{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"b.$":"$.a","n":1.0},"End":true}}}')
      local status, out, err = h.orchestra("run " .. d .. " --input-json '{\"a\":[1,2]}'")
      assert.equal(0, status, err)
      assert.equal('{"b":[1,2],"n":1.0}\n', out)
    end)

    it("reads --input from a file and defaults to {}", function()
      local d = def('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}')
      h.write(dir .. "/in.json", '{"z":1,"a":2}')
      local status, out = h.orchestra("run " .. d .. " --input " .. h.shell_quote(dir .. "/in.json"))
      assert.equal(0, status)
      assert.equal('{"z":1,"a":2}\n', out)
      status, out = h.orchestra("run " .. d)
      assert.equal(0, status)
      assert.equal("{}\n", out)
    end)

    it("prints Error and Cause and exits 1 when the execution fails", function()
      local d = def('{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad","Cause":"why"}}}')
      local status, out = h.orchestra("run " .. d)
      assert.equal(1, status)
      assert.equal('{"Cause":"why","Error":"Bad"}\n', out)
    end)

    it("uses handlers from --tasks and writes --history", function()
      local d = def('{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}')
      h.write(dir .. "/tasks.lua", [[return { ["arn:aws:lambda:us-east-1:1:function:f"] = function(input) return { got = input.x } end }]])
      local status, out, err = h.orchestra("run " .. d .. " --input-json '{\"x\":5}' --tasks "
        .. h.shell_quote(dir .. "/tasks.lua") .. " --history " .. h.shell_quote(dir .. "/h.json"))
      assert.equal(0, status, err)
      assert.equal('{"got":5}\n', out)
      local hist = orchestra.json.decode(h.read(dir .. "/h.json"))
      local types = {}
      for _, e in ipairs(hist.events) do types[#types + 1] = e.type end
      assert.same({ "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded" }, types)
    end)

    it("exits 2 naming the pointer of an invalid definition", function()
      local d = def('{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"}}}')
      local status, out, err = h.orchestra("run " .. d)
      assert.equal(2, status)
      assert.equal("", out)
      assert.matches("/States/P/Next: Next names state 'Q', which does not exist", err, 1, true)
    end)

    it("runs a JSONata definition", function()
      local d = def('{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",' ..
        '"Output":{"sum":"{% $sum($states.input.n) %}"},"End":true}}}')
      local status, out = h.orchestra("run " .. d .. " --input-json '{\"n\":[1,2,3]}'")
      assert.equal(0, status)
      assert.same({ sum = 6 }, orchestra.json.decode(out))
    end)

    it("exits 2 for a JSONPath state in a JSONata machine, naming the pointer", function()
      local d = def('{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",' ..
        '"QueryLanguage":"JSONPath","End":true}}}')
      local status, _, err = h.orchestra("run " .. d)
      assert.equal(2, status)
      assert.matches("/States/P/QueryLanguage: 'QueryLanguage' can not be 'JSONPath' if set to " ..
        "'JSONata' for whole state machine", err, 1, true)
    end)

    it("applies the limit options", function()
      local d = def('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}')
      local status, _, err = h.orchestra("run " .. d .. " --input-json '{\"a\":\"0123456789\"}' --max-payload-bytes 5")
      assert.equal(64, status)
      assert.matches("DataLimitExceeded", err)
      status = h.orchestra("run " .. d .. " --history-retention last:2")
      assert.equal(0, status)
      status, _, err = h.orchestra("run " .. d .. " --history-retention sometimes")
      assert.equal(64, status)
      assert.matches("history%-retention", err)
    end)

    it("rejects unknown options and unreadable files", function()
      local status, _, err = h.orchestra("run " .. def("{}") .. " --frob 1")
      assert.equal(64, status)
      assert.matches("unknown option '%-%-frob'", err)
      status = h.orchestra("run /no/such/file.json")
      assert.equal(66, status)
    end)
  end)

  describe("validate", function()
    it("prints valid and exits 0, or pointer + message per error and exits 2", function()
      local dir = h.tmpdir()
      h.write(dir .. "/ok.json", '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}')
      local status, out = h.orchestra("validate " .. h.shell_quote(dir .. "/ok.json"))
      assert.equal(0, status)
      assert.matches("valid", out)
      h.write(dir .. "/bad.json", '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"C":{"Type":"Bogus"}}}')
      local err
      status, out, err = h.orchestra("validate " .. h.shell_quote(dir .. "/bad.json"))
      assert.equal(2, status)
      assert.matches("/States/A/Next: Next names state 'B', which does not exist", err, 1, true)
      assert.matches("/States/C/Type: unknown state type 'Bogus'", err, 1, true)
      h.run("rm -rf " .. h.shell_quote(dir))
    end)

    it("takes JSONata definitions: valid, invalid expressions with pointer and code, graph", function()
      local dir = h.tmpdir()
      h.write(dir .. "/ok.json", '{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice",' ..
        '"Choices":[{"Condition":"{% $states.input.v > 1 %}","Next":"A"}],"Default":"A"},' ..
        '"A":{"Type":"Pass","Output":"{% 1 %}","End":true}}}')
      local status, out = h.orchestra("validate " .. h.shell_quote(dir .. "/ok.json"))
      assert.equal(0, status)
      assert.matches("valid", out)
      status, out = h.orchestra("graph " .. h.shell_quote(dir .. "/ok.json"))
      assert.equal(0, status)
      assert.matches('s_C -> s_A [label="$states.input.v > 1"]', out, 1, true)
      h.write(dir .. "/bad.json", '{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass",' ..
        '"Output":{"x":"{% 1 + %}"},"End":true}}}')
      local err
      status, out, err = h.orchestra("validate " .. h.shell_quote(dir .. "/bad.json"))
      assert.equal(2, status)
      assert.matches("/States/A/Output/x: invalid JSONata expression '1 +': S0207: Unexpected end of " ..
        "expression (character 3)", err, 1, true)
      h.run("rm -rf " .. h.shell_quote(dir))
    end)
  end)
end)
