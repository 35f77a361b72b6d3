-- Runs jsonata-js's test suite (spec/fixtures/jsonata: groups of cases,
-- datasets) through orchestra.jsonata and returns the outcome of every
-- case. Used by spec/jsonata_spec.lua; runnable alone to print the pass
-- counts per group:
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/lua5.4/?.so;;' \
--     lua5.4 spec/support/jsonata_suite.lua [group]
local orchestra = require "orchestra"

local M = {}

local DIR = "spec/fixtures/jsonata"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function ls(dir)
  local names = {}
  local p = io.popen("ls " .. dir)
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  table.sort(names)
  return names
end

local null = orchestra.null

-- Deep equality of decoded JSON values (arrays carry the array marker;
-- objects compare by keys whatever their order).
local function same(a, b)
  if a == b then return true end
  if type(a) == "number" and type(b) == "number" then
    return a == b or math.abs(a - b) <= 1e-12 * math.max(math.abs(a), math.abs(b))
  end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  local ma, mb = getmetatable(a) == orchestra.array_mt, getmetatable(b) == orchestra.array_mt
  if next(a) == nil and next(b) == nil and ma ~= mb then return false end
  return true
end
M.same = same

local function show(v)
  if v == nil then return "undefined" end
  local ok, s = pcall(orchestra.json.encode, v)
  return ok and s or tostring(v)
end
M.show = show

--- Load every case: a list of {group=, id=, case=} in a stable order.
function M.cases(only)
  local datasets = {}
  for _, name in ipairs(ls(DIR .. "/datasets")) do
    -- kept as text: parsed in C, objects keep their members' order
    datasets[name:gsub("%.json$", "")] = read(DIR .. "/datasets/" .. name)
  end
  local list = {}
  for _, group in ipairs(ls(DIR .. "/groups")) do
    if not only or only == group then
      for _, file in ipairs(ls(DIR .. "/groups/" .. group)) do
        if file:match("%.json$") then
          local okd, spec = pcall(orchestra.json.decode, read(DIR .. "/groups/" .. group .. "/" .. file))
          if not okd then
            -- a case whose JSON holds a lone UTF-16 surrogate: such text has
            -- no UTF-8 form, so no orchestra string can carry it
            spec = { expr = "", unreadable = tostring(spec) }
          end
          local items = getmetatable(spec) == orchestra.array_mt and spec or { spec }
          for i, c in ipairs(items) do
            if c["expr-file"] then
              c.expr = read(DIR .. "/groups/" .. group .. "/" .. c["expr-file"])
            end
            local id = group .. "/" .. file:gsub("%.json$", "") .. (#items > 1 and ("#" .. i) or "")
            list[#list + 1] = { group = group, id = id, case = c, datasets = datasets }
          end
        end
      end
    end
  end
  return list
end

--- Run one case: returns ok, why.
function M.run(entry)
  local c = entry.case
  if c.unreadable then return nil, "lone UTF-16 surrogate, not representable in UTF-8" end
  local input, text
  if c.data ~= nil then
    input = c.data
  elseif c.dataset ~= nil and c.dataset ~= null then
    text = entry.datasets[c.dataset]
  end
  local limits = { now_ms = 1700000000000 }
  if c.timelimit and c.depth then
    limits.timeout_ms = c.timelimit
    limits.max_depth = c.depth
  end
  local bindings = c.bindings
  local okc, x = pcall(orchestra.jsonata.compile, c.expr)
  local ok, result
  if okc then
    if text then
      ok, result = pcall(x.evaluate_json, x, text, bindings, limits)
    else
      ok, result = pcall(x.evaluate, x, input, bindings, limits)
    end
  else
    ok, result = false, x
  end
  local want_code = c.code or (type(c.error) == "table" and c.error.code)
  -- U1001 is the code jsonata-js's test runner gives its own depth and
  -- time guard; the engine's guards say D1011 (depth) or D1012 (time)
  if want_code == "U1001" and not ok and type(result) == "table" and
      (result.code == "D1011" or result.code == "D1012") then
    return true
  end
  if want_code then
    if ok then return false, "expected error " .. want_code .. ", got " .. show(result) end
    local got = type(result) == "table" and result.code or tostring(result)
    if got ~= want_code then
      return false, "expected error " .. want_code .. ", got " .. tostring(got) ..
        (type(result) == "table" and (": " .. tostring(result.message)) or "")
    end
    return true
  end
  if not ok then
    local msg = type(result) == "table" and (tostring(result.code) .. ": " .. tostring(result.message)) or tostring(result)
    return false, "error " .. msg
  end
  if c.undefinedResult then
    if result ~= nil then return false, "expected undefined, got " .. show(result) end
    return true
  end
  if c.result == nil and result ~= nil then
    return false, "expected undefined, got " .. show(result)
  end
  if not same(result, c.result) then
    return false, "expected " .. show(c.result) .. ", got " .. show(result)
  end
  return true
end

if arg and arg[0] and arg[0]:match("jsonata_suite%.lua$") then
  local only, verbose = arg[1], arg[2]
  local groups, order = {}, {}
  local total, passed = 0, 0
  for _, e in ipairs(M.cases(only ~= "all" and only or nil)) do
    local g = groups[e.group]
    if not g then
      g = { pass = 0, n = 0, fails = {} }
      groups[e.group] = g
      order[#order + 1] = e.group
    end
    local ok, why = M.run(e)
    g.n = g.n + 1
    total = total + 1
    if ok then
      g.pass = g.pass + 1
      passed = passed + 1
    elseif ok == nil then
      g.n = g.n - 1
      total = total - 1
    else
      g.fails[#g.fails + 1] = e.id .. ": " .. e.case.expr:gsub("\n", " "):sub(1, 100) .. " => " .. tostring(why):sub(1, 300)
    end
  end
  for _, name in ipairs(order) do
    local g = groups[name]
    print(string.format("%-32s %4d/%-4d", name, g.pass, g.n))
    if verbose or only then
      for _, f in ipairs(g.fails) do print("    " .. f) end
    end
  end
  print(string.format("total %d/%d", passed, total))
end

return M
