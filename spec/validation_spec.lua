-- Validation cross-check: every definition of spec/fixtures/validation/
-- (the main set) gets the same verdict from `orchestra validate` and from
-- the npm package asl-validator (pinned below), and that verdict is the one
-- recorded in verdicts.json and in the file name (valid-* / invalid-*).
-- For invalid definitions our stderr must hold "<JSON pointer>: <message>"
-- lines, and the pointer of pointers.json where one is recorded.
-- orchestra-only/ holds definitions on which the two knowingly disagree
-- (see its README.md): there only our verdict is checked, and that
-- asl-validator still disagrees.
--
-- Needs node and npm; installs asl-validator into <build root>/node once
-- and runs it through spec/support/asl_validate.js, which keeps its
-- verdicts in <build root>/node/verdict-cache.json (keyed by version and
-- file content) so that only new or changed definitions cost node time.
-- The root pointer "" is printed as "(root)".

local h = require "spec.helper"
local json = require("orchestra").json

local ASLV_VERSION = "4.0.0"
local DIR = h.ROOT .. "/spec/fixtures/validation"
local ONLY_DIR = DIR .. "/orchestra-only"
local SCRIPT = h.ROOT .. "/spec/support/asl_validate.js"
local BUILD_ROOT = h.BUILD_ROOT:sub(1, 1) == "/" and h.BUILD_ROOT
  or (h.ROOT .. "/" .. h.BUILD_ROOT)
local NODE_PREFIX = BUILD_ROOT .. "/node"

local q = h.shell_quote

local function read_json(path)
  return json.decode(h.read(path))
end

-- Sorted names of the definition files (*.json) directly in dir.
local function definitions(dir)
  local status, out = h.run("ls " .. q(dir))
  assert(status == 0, "cannot list " .. dir)
  local names = {}
  for name in out:gmatch("[^\n]+") do
    if name:match("%.json$") and name ~= "verdicts.json" and name ~= "pointers.json" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function installed_version()
  local f = io.open(NODE_PREFIX .. "/node_modules/asl-validator/package.json", "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  local ok, pkg = pcall(json.decode, text)
  return ok and type(pkg) == "table" and pkg.version or nil
end

-- Make sure node, npm and asl-validator@ASLV_VERSION are there; returns
-- true or nil, message. npm/node run without LD_PRELOAD (make test-asan).
local function ensure_validator()
  for _, tool in ipairs({ "node", "npm" }) do
    if not h.have(tool) then
      return nil, "'" .. tool .. "' is not on PATH: the validation cross-check needs "
        .. "Node.js and npm (e.g. apt-get install nodejs npm) to run asl-validator@"
        .. ASLV_VERSION .. "; unset ORCHESTRA_VALIDATION to leave this spec out"
    end
  end
  if installed_version() == ASLV_VERSION then return true end
  local cmd = "mkdir -p " .. q(NODE_PREFIX) .. " && npm install --prefix " .. q(NODE_PREFIX)
    .. " --no-audit --no-fund --save-exact asl-validator@" .. ASLV_VERSION
  local status, out, err = h.run(cmd, true)
  if status ~= 0 or installed_version() ~= ASLV_VERSION then
    return nil, "could not install asl-validator@" .. ASLV_VERSION .. " into "
      .. NODE_PREFIX .. " (" .. cmd .. ", exit " .. tostring(status) .. "):\n" .. out .. err
  end
  return true
end

-- asl-validator's results for the files of dir, by file name:
-- { name = { valid = bool, errors = { ... } } }, or nil, message.
local function asl_validate(dir, names)
  if #names == 0 then return {} end
  local args = {}
  for i, name in ipairs(names) do args[i] = q(dir .. "/" .. name) end
  local cmd = "node " .. q(SCRIPT) .. " --cache " .. q(NODE_PREFIX .. "/verdict-cache.json")
    .. " " .. q(NODE_PREFIX) .. " " .. table.concat(args, " ")
  local status, out, err = h.run(cmd, true)
  if status ~= 0 then
    return nil, "asl_validate.js failed (exit " .. tostring(status) .. "):\n" .. err
  end
  local ok, res = pcall(json.decode, out)
  if not ok or type(res) ~= "table" or type(res.results) ~= "table" then
    return nil, "asl_validate.js printed no JSON result:\n" .. out .. err
  end
  if res.version ~= ASLV_VERSION then
    return nil, "asl_validate.js ran asl-validator " .. tostring(res.version)
      .. ", not " .. ASLV_VERSION
  end
  return res.results
end

local function asl_summary(r)
  if r == nil then return "no result" end
  if type(r.errors) ~= "table" or #r.errors == 0 then return "no errors" end
  return table.concat(r.errors, "; ")
end

-- The lines of stderr text without their "<file>: " prefix.
local function problem_lines(err)
  local lines = {}
  for line in err:gmatch("[^\n]+") do
    lines[#lines + 1] = line:match("^.-%.json: (.*)$") or line
  end
  return lines
end

-- The pointers of the "<file>: <pointer>: <message>" lines of stderr text.
local function pointer_lines(err)
  local ptrs = {}
  for _, line in ipairs(problem_lines(err)) do
    local p = line:match("^(/.-): ") or ((line:match("^: ") or line:match("^%(root%): ")) and "")
    if p then ptrs[#ptrs + 1] = p end
  end
  return ptrs
end

local function has_line_for(err, pointer)
  for _, line in ipairs(problem_lines(err)) do
    local shown = pointer == "" and "(root)" or pointer
    if line:sub(1, #shown + 2) == shown .. ": " then return true end
  end
  return false
end

local function orchestra_validate(path)
  return h.orchestra("validate " .. q(path))
end

local MAIN = definitions(DIR)
local ONLY = definitions(ONLY_DIR)
local VERDICTS = read_json(DIR .. "/verdicts.json")
local POINTERS = read_json(DIR .. "/pointers.json")

-- Run asl-validator once per directory (lazily, shared by every test).
local asl_main, asl_only, asl_err
local function asl_results()
  if asl_main == nil and asl_err == nil then
    local ok, e = ensure_validator()
    if not ok then
      asl_err = e
    else
      asl_main, e = asl_validate(DIR, MAIN)
      if asl_main then asl_only, e = asl_validate(ONLY_DIR, ONLY) end
      if not (asl_main and asl_only) then asl_err, asl_main, asl_only = e, nil, nil end
    end
  end
  assert(asl_err == nil, asl_err)
  return asl_main, asl_only
end

describe("validation cross-check with asl-validator " .. ASLV_VERSION, function()
  it("finds node, npm and asl-validator@" .. ASLV_VERSION .. " in build/node", function()
    asl_results()
  end)

  it("has a recorded verdict for exactly the definitions of the main set", function()
    assert.is_true(#MAIN >= 60, "expected at least 60 definitions, found " .. #MAIN)
    local seen = {}
    for _, name in ipairs(MAIN) do
      seen[name] = true
      local verdict = VERDICTS[name]
      assert.is_boolean(verdict, "verdicts.json has no verdict for " .. name)
      local prefix = name:match("^(%a+)%-")
      assert.is_true(prefix == "valid" or prefix == "invalid", name .. ": name must start with valid- or invalid-")
      assert.equal(prefix == "valid", verdict, name .. ": the name and verdicts.json disagree")
      assert.is_nil(h.read(DIR .. "/" .. name):find('"JSONata"', 1, true),
        name .. ": JSONata definitions do not belong in the cross-check")
    end
    for _, name in ipairs(sorted_keys(VERDICTS)) do
      assert.is_true(seen[name] == true, "verdicts.json names " .. name .. ", which is not in the main set")
    end
    for _, name in ipairs(sorted_keys(POINTERS)) do
      assert.is_false(VERDICTS[name] ~= false, "pointers.json names " .. name .. ", which is not an invalid definition of the main set")
      assert.is_string(POINTERS[name])
    end
  end)

  for _, name in ipairs(MAIN) do
    it(name, function()
      local path = DIR .. "/" .. name
      local expected = VERDICTS[name]
      local asl = asl_results()[name]
      assert.is_table(asl, "asl-validator gave no result for " .. name)
      assert.equal(expected, asl.valid, "asl-validator's verdict on " .. name .. " changed: " .. asl_summary(asl))

      local status, out, err = orchestra_validate(path)
      if expected then
        assert.equal(0, status, "orchestra validate " .. name .. " should exit 0:\n" .. err .. out)
        return
      end
      assert.equal(2, status, "orchestra validate " .. name .. " should exit 2 (asl-validator: "
        .. asl_summary(asl) .. "):\n" .. err .. out)
      assert.is_true(#pointer_lines(err) > 0,
        "no '<JSON pointer>: <message>' line on stderr:\n" .. err)
      local want = POINTERS[name]
      if want then
        assert.is_true(has_line_for(err, want),
          "no line for pointer '" .. want .. "' on stderr:\n" .. err)
      end
    end)
  end
end)

describe("validation: definitions where orchestra and asl-validator " .. ASLV_VERSION .. " disagree", function()
  for _, name in ipairs(ONLY) do
    it(name, function()
      local path = ONLY_DIR .. "/" .. name
      local expected = name:match("^valid%-") ~= nil
      assert.is_true(expected or name:match("^invalid%-") ~= nil, name .. ": name must start with valid- or invalid-")
      local _, only = asl_results()
      local asl = only[name]
      assert.is_table(asl, "asl-validator gave no result for " .. name)
      assert.equal(not expected, asl.valid, "asl-validator now agrees on " .. name
        .. " (" .. asl_summary(asl) .. "): move it to the main set and record it in verdicts.json")

      local status, out, err = orchestra_validate(path)
      if expected then
        assert.equal(0, status, "orchestra validate " .. name .. " should exit 0:\n" .. err .. out)
      else
        assert.equal(2, status, "orchestra validate " .. name .. " should exit 2:\n" .. err .. out)
        assert.is_true(#pointer_lines(err) > 0,
          "no '<JSON pointer>: <message>' line on stderr:\n" .. err)
      end
    end)
  end
end)
