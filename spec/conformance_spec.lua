-- AWS conformance: runs every case of spec/fixtures/aws/*.json through
-- `orchestra run` and compares the result with what AWS Step Functions
-- recorded (see spec/fixtures/aws/README.md for the format and sources).
-- Every category runs and every case must pass, JSONata ones included.
-- ORCHESTRA_CONFORMANCE_ONLY=choice,paths limits it to some categories.

local h = require "spec.helper"
local orchestra = require "orchestra"
local json = orchestra.json

local FIXTURES = h.ROOT .. "/spec/fixtures/aws/"
local CATEGORIES = { "choice", "paths", "pass", "fail", "wait", "intrinsics", "errors",
                     "map", "parallel", "variables", "jsonata" }

---------------------------------------------------------------------------
-- Raw JSON text of a fixture's members: decoding into Lua tables loses key
-- order (and the engine's output depends on it, e.g. States.JsonToString), so
-- definitions, inputs and task results are handed over as the exact text of
-- the fixture file. `scan` returns a tree of {s, e, members | items} spans.
---------------------------------------------------------------------------
local function scan(text)
  local pos = 1
  local function ws()
    pos = text:find("[^ \t\r\n]", pos) or #text + 1
  end
  local function skip_string()
    local i = pos + 1
    while true do
      local c = assert(text:find('["\\]', i), "unterminated string")
      if text:sub(c, c) == "\\" then
        i = c + 2
      else
        pos = c + 1
        return
      end
    end
  end
  local value
  function value()
    ws()
    local node = { s = pos }
    local c = text:sub(pos, pos)
    if c == "{" then
      node.members = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "}" then
        pos = pos + 1
      else
        while true do
          ws()
          local ks = pos
          skip_string()
          local key = json.decode(text:sub(ks, pos - 1))
          ws()
          pos = pos + 1 -- ':'
          node.members[key] = value()
          ws()
          local d = text:sub(pos, pos)
          pos = pos + 1
          if d == "}" then break end
        end
      end
    elseif c == "[" then
      node.items = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "]" then
        pos = pos + 1
      else
        while true do
          node.items[#node.items + 1] = value()
          ws()
          local d = text:sub(pos, pos)
          pos = pos + 1
          if d == "]" then break end
        end
      end
    elseif c == '"' then
      skip_string()
    else
      pos = text:find("[,%]}%s]", pos) or #text + 1
    end
    node.e = pos - 1
    return node
  end
  return value()
end

local function raw(text, node)
  return text:sub(node.s, node.e)
end

---------------------------------------------------------------------------
-- Structural comparison of decoded JSON: arrays and objects are told apart
-- by orchestra.array_mt, numbers compare exactly (and 1 is not 1.0 where
-- Lua has integers), null is orchestra.null.
---------------------------------------------------------------------------
local function is_array(v)
  return type(v) == "table" and getmetatable(v) == orchestra.array_mt
end

local function describe_value(v)
  local ok, s = pcall(json.encode, v)
  return ok and s or tostring(v)
end

local function same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then
    return false, path .. ": expected " .. describe_value(a) .. ", got " .. describe_value(b)
  end
  if type(a) == "number" then
    if math.type and math.type(a) ~= math.type(b) then
      return false, path .. ": expected " .. describe_value(a) .. " (" .. math.type(a)
        .. "), got " .. describe_value(b) .. " (" .. math.type(b) .. ")"
    end
    if a ~= b then
      return false, path .. ": expected " .. describe_value(a) .. ", got " .. describe_value(b)
    end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then
      return false, path .. ": expected " .. describe_value(a) .. ", got " .. describe_value(b)
    end
    return true
  end
  if is_array(a) ~= is_array(b) then
    return false, path .. ": expected " .. describe_value(a) .. ", got " .. describe_value(b)
  end
  if is_array(a) then
    if #a ~= #b then
      return false, path .. ": expected " .. #a .. " items, got " .. #b .. ": " .. describe_value(b)
    end
    for i = 1, #a do
      local ok, why = same(a[i], b[i], path .. "[" .. (i - 1) .. "]")
      if not ok then return false, why end
    end
    return true
  end
  for k, v in pairs(a) do
    if b[k] == nil then
      return false, path .. ": missing member '" .. tostring(k) .. "' in " .. describe_value(b)
    end
    local ok, why = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then
      return false, path .. ": unexpected member '" .. tostring(k) .. "' in " .. describe_value(b)
    end
  end
  return true
end

local function assert_same(expected, actual, what)
  local ok, why = same(expected, actual)
  assert(ok, what .. " differs: " .. tostring(why))
end

local function absent(v)
  return v == nil or v == orchestra.null
end

-- Lists compared in order, or as multisets (sorted by their JSON text) when
-- the recorded order is not deterministic (Parallel branches, concurrent Map
-- iterations).
local function sorted_by_text(list)
  local copy, keys = {}, {}
  for i, v in ipairs(list) do
    keys[i] = describe_value(v)
    copy[i] = i
  end
  table.sort(copy, function(x, y) return keys[x] < keys[y] end)
  local out = {}
  for i, idx in ipairs(copy) do out[i] = list[idx] end
  return out
end

---------------------------------------------------------------------------
-- TASKS.lua: Resource -> handler returning the scripted results in order
-- (the last one repeats); failures raise error({Error=, Cause=}).
---------------------------------------------------------------------------
local function lua_string(s)
  return string.format("%q", s)
end

local function tasks_source(text, case_node, case)
  local lines = {
    "local json = require('orchestra').json",
    "local scripts = {",
  }
  local tnode = case_node.members.tasks
  for resource, list in pairs(case.tasks) do
    local lnode = tnode.members[resource]
    lines[#lines + 1] = "  [" .. lua_string(resource) .. "] = {"
    for i, entry in ipairs(list) do
      local enode = lnode.items[i]
      if enode.members.result then
        lines[#lines + 1] = "    { result = " .. lua_string(raw(text, enode.members.result)) .. " },"
      else
        local parts = {}
        if entry.error ~= nil then parts[#parts + 1] = "error = " .. lua_string(entry.error) end
        if entry.cause ~= nil then parts[#parts + 1] = "cause = " .. lua_string(entry.cause) end
        lines[#lines + 1] = "    { failed = true, " .. table.concat(parts, ", ") .. " },"
      end
    end
    lines[#lines + 1] = "  },"
  end
  lines[#lines + 1] = "}"
  lines[#lines + 1] = [[
local handlers = {}
for resource, list in pairs(scripts) do
  local calls = 0
  handlers[resource] = function(input, context)
    calls = calls + 1
    local entry = list[math.min(calls, #list)]
    if entry.failed then
      error({ Error = entry.error, Cause = entry.cause }, 0)
    end
    return json.decode(entry.result)
  end
end
return handlers]]
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------
-- Checks
---------------------------------------------------------------------------
local function check_history(case, hist_path)
  local ok, text = pcall(h.read, hist_path)
  assert(ok, "no history file was written: " .. tostring(text))
  local hist = json.decode(text)
  local events = hist.events
  assert(is_array(events), "history has no events array")
  if case.history then
    local types = setmetatable({}, orchestra.array_mt)
    for i, e in ipairs(events) do types[i] = e.type end
    local expected = case.history
    if case.history_order == "multiset" then
      expected = setmetatable(sorted_by_text(expected), orchestra.array_mt)
      types = setmetatable(sorted_by_text(types), orchestra.array_mt)
    end
    assert_same(expected, types, "history event types" ..
      (case.history_order == "multiset" and " (as a multiset)" or ""))
  end
  if case.assigned_variables then
    local actual = {}
    for _, e in ipairs(events) do
      local d = e.stateExitedEventDetails
      if d and d.assignedVariables then
        local vars = {}
        for k, v in pairs(d.assignedVariables) do
          vars[k] = type(v) == "string" and json.decode(v) or v
        end
        actual[#actual + 1] = { state = d.name, variables = vars }
      end
    end
    local expected = case.assigned_variables
    assert(#expected == #actual, string.format(
      "expected %d exits with assignedVariables, got %d", #expected, #actual))
    if case.assigned_variables_order == "multiset" then
      local key = function(x) return x.state end
      table.sort(expected, function(x, y) return key(x) < key(y) end)
      table.sort(actual, function(x, y) return key(x) < key(y) end)
    end
    for i, want in ipairs(expected) do
      local got = actual[i]
      assert(want.state == got.state, string.format(
        "assignedVariables #%d: expected state '%s', got '%s'", i, want.state, got.state))
      -- subset: variables whose recorded value was masked are left out
      for name, value in pairs(want.variables) do
        assert(got.variables[name] ~= nil, string.format(
          "assignedVariables of '%s': '%s' was not assigned", want.state, name))
        assert_same(value, got.variables[name],
          string.format("assignedVariables of '%s': variable '%s'", want.state, name))
      end
    end
  end
end

local function run_case(text, case_node, case)
  local dir = h.tmpdir()
  local def = dir .. "/DEF.json"
  local inp = dir .. "/IN.json"
  local hist = dir .. "/HIST.json"
  h.write(def, raw(text, case_node.members.definition))
  h.write(inp, raw(text, case_node.members.input))
  local args = h.shell_quote(def) .. " --input " .. h.shell_quote(inp)
  if case.tasks then
    local tasks = dir .. "/TASKS.lua"
    h.write(tasks, tasks_source(text, case_node, case))
    args = args .. " --tasks " .. h.shell_quote(tasks)
  end
  args = args .. " --clock virtual --history " .. h.shell_quote(hist)
  local status, out, err = h.orchestra("run " .. args)
  local keep = os.getenv("ORCHESTRA_CONFORMANCE_KEEP")
  local ok, why = pcall(function()
    local expected = case.expected
    if expected.status == "INVALID_DEFINITION" then
      assert(status == 2, string.format(
        "expected exit status 2 (invalid definition: %s), got %s\nstdout: %s\nstderr: %s",
        tostring(expected.message), tostring(status), out, err))
      return
    end
    if expected.status == "SUCCEEDED" then
      assert(status == 0, string.format("expected exit status 0, got %s\nstdout: %s\nstderr: %s",
        tostring(status), out, err))
      local okd, actual = pcall(json.decode, out)
      assert(okd, "stdout is not JSON: " .. tostring(actual) .. "\nstdout: " .. out .. "\nstderr: " .. err)
      assert_same(json.decode(raw(text, case_node.members.expected.members.output)), actual, "output")
    else
      assert(status == 1, string.format("expected exit status 1, got %s\nstdout: %s\nstderr: %s",
        tostring(status), out, err))
      local okd, actual = pcall(json.decode, out)
      assert(okd, "stdout is not JSON: " .. tostring(actual) .. "\nstdout: " .. out .. "\nstderr: " .. err)
      assert(type(actual) == "table", "stdout is not an object: " .. out)
      if expected.error ~= nil then
        assert.equal(expected.error, actual.Error)
      else
        assert(absent(actual.Error), "expected no Error, got " .. describe_value(actual.Error))
      end
      if expected.cause ~= nil then
        assert.equal(expected.cause, actual.Cause)
      elseif expected.cause_json ~= nil then
        assert(type(actual.Cause) == "string", "expected a JSON text Cause, got "
          .. describe_value(actual.Cause))
        local okc, cause = pcall(json.decode, actual.Cause)
        assert(okc, "Cause is not JSON: " .. actual.Cause)
        assert_same(json.decode(raw(text, case_node.members.expected.members.cause_json)), cause,
          "Cause (as JSON)")
      elseif expected.cause_prefix ~= nil then
        assert(type(actual.Cause) == "string"
          and actual.Cause:sub(1, #expected.cause_prefix) == expected.cause_prefix,
          "expected a Cause starting with " .. expected.cause_prefix .. "\ngot "
          .. describe_value(actual.Cause))
      else
        assert(absent(actual.Cause), "expected no Cause, got " .. describe_value(actual.Cause))
      end
    end
    if case.history or case.assigned_variables then
      check_history(case, hist)
    end
  end)
  if not keep then
    os.execute("rm -rf " .. h.shell_quote(dir))
  end
  if not ok then
    local msg = type(why) == "table" and why.message or tostring(why)
    msg = tostring(msg):gsub("^[^\n]-conformance_spec%.lua:%d+: ", "")
    assert(false, msg .. (keep and ("\n(files kept in " .. dir .. ")") or ""))
  end
end

local only
if os.getenv("ORCHESTRA_CONFORMANCE_ONLY") then
  only = {}
  for c in os.getenv("ORCHESTRA_CONFORMANCE_ONLY"):gmatch("[^,%s]+") do only[c] = true end
end

describe("AWS conformance", function()
  for _, category in ipairs(CATEGORIES) do
    local path = FIXTURES .. category .. ".json"
    local f = io.open(path, "rb")
    if f and (not only or only[category]) then
      local text = f:read("*a")
      f:close()
      local cases = json.decode(text)
      local tree = scan(text)
      describe(category, function()
        for i, case in ipairs(cases) do
          local node = tree.items[i]
          it(category .. "/" .. case.name, function()
            run_case(text, node, case)
          end)
        end
      end)
    elseif f then
      f:close()
    elseif not only or only[category] then
      it(category .. " has its fixture file", function()
        assert(false, "missing fixture file " .. path)
      end)
    end
  end
  if only then -- a category asked for by name must exist
    local known = {}
    for _, c in ipairs(CATEGORIES) do known[c] = true end
    for c in pairs(only) do
      if not known[c] then
        it("knows the category " .. c, function()
          assert(false, "ORCHESTRA_CONFORMANCE_ONLY names '" .. c .. "', which is not a category ("
            .. table.concat(CATEGORIES, ", ") .. ")")
        end)
      end
    end
  end
end)
