-- Random-input checks for the C core, run by `make fuzz` under the
-- AddressSanitizer + UndefinedBehaviorSanitizer build (any report aborts).
--
--   lua tools/fuzz.lua definitions SEED N   mutated definitions: load, run
--   lua tools/fuzz.lua readers SEED N       random files through a
--                                           distributed Map's ItemReader
--   lua tools/fuzz.lua json SEED N          mutated JSON texts: decode, and
--                                           encode/decode round trips
--   lua tools/fuzz.lua jsonata SEED N       mutated JSONata expressions
--                                           (from jsonata-js's test suite):
--                                           compile and evaluate under tight
--                                           budgets; a result or an error
--                                           with a JSONata code, never a
--                                           crash or a hang
--
-- Definitions come from spec/fixtures (the AWS-recorded cases, JSONata
-- ones included, and the validation fixtures) and are mutated: values
-- replaced by values of other types, members dropped, containers emptied,
-- strings replaced by paths, intrinsic calls and {% %} expressions. Every load must either succeed or raise a Lua error
-- table; every run must end or stay RUNNING without a crash. Prints the
-- counts of outcomes.
local orchestra = require "orchestra"
local json = orchestra.json

local mode, seed, n = arg[1], tonumber(arg[2]) or 1, tonumber(arg[3]) or 1000
math.randomseed(seed)

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local counts = {}
local function count(k) counts[k] = (counts[k] or 0) + 1 end

-- {====== definitions

local ODD = {
  orchestra.null, true, false, 0, -1, 1.5, 1e300, "", "$", "$$", "$.a[0]",
  "$..x", "$.a[?(@.b > 1)]", "States.Format('{}', $.a)", "States.Array(",
  "States.MathAdd($.a, 1)", "x", "\0", "\237\160\128", string.rep("a", 300),
  orchestra.array(), orchestra.object(), { 1, 2 }, { Type = "Pass", End = true },
  "{% $states.input %}", "{% 1 + %}", "{% $states.context.Map.Item %}", "{% $x := %}",
  "{% $undefinedVar %}", "{% [1..1000] %}", "{% function($x){$x} %}", "{%%}", "JSONata",
}

local function corpus()
  local defs = {}
  for _, f in ipairs({ "choice", "errors", "fail", "intrinsics", "map", "parallel", "pass", "wait",
    "variables", "jsonata" }) do
    local ok, cases = pcall(json.decode, read("spec/fixtures/aws/" .. f .. ".json"))
    if ok then
      for _, c in ipairs(cases) do
        if type(c.definition) == "table" then defs[#defs + 1] = { c.definition, c.input } end
      end
    end
  end
  local p = io.popen("ls spec/fixtures/validation/*.json")
  for path in p:lines() do
    local ok, d = pcall(json.decode, read(path))
    if ok and type(d) == "table" then defs[#defs + 1] = { d.definition or d, {} } end
  end
  p:close()
  return defs
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

-- Replace, drop or empty one random node of t.
local function mutate(t, depth)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  if #keys == 0 then return end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local k = keys[math.random(#keys)]
  local v = t[k]
  local r = math.random(10)
  if type(v) == "table" and r <= 6 and depth < 12 then
    mutate(v, depth + 1)
  elseif r <= 8 then
    t[k] = copy(ODD[math.random(#ODD)])
  elseif type(k) == "string" then
    t[k] = nil
  end
end

local function run_definitions()
  local defs = corpus()
  for i = 1, n do
    local pick = defs[math.random(#defs)]
    local def = copy(pick[1])
    for _ = 1, math.random(1, 4) do mutate(def, 0) end
    local e = orchestra.engine { clock = "virtual", seed = i, max_transitions_per_step = 200 }
    e:default_handler(function(_, input)
      local r = math.random(4)
      if r == 1 then error({ Error = "Fuzz", Cause = "random" }) end
      if r == 2 then return orchestra.pending end
      return input
    end)
    local ok, m = pcall(e.load, e, def)
    if not ok then
      if type(m) ~= "table" or type(m.message) ~= "string" then
        error("load raised a non-table error: " .. tostring(m))
      end
      count("rejected")
    else
      local ok2, ex = pcall(m.start, m, copy(pick[2]) or {})
      if ok2 then
        for _ = 1, 200 do
          if ex.status ~= "RUNNING" then break end
          e:step()
        end
        count(ex.status)
        ex:history_json()
      else
        count("start refused")
      end
    end
    e:close()
  end
end

-- }======

-- {====== readers

local ALPHA = { ",", "\"", "\n", "\r", "a", "b", "1", " ", "{", "}", "[", "]", ":", "|", "\t",
  "\0", "\255", "\195\169", "\\" }

local function random_text()
  local t = {}
  if math.random(2) == 1 then
    for i = 1, math.random(0, 200) do t[i] = ALPHA[math.random(#ALPHA)] end
    return table.concat(t)
  end
  for r = 1, math.random(0, 8) do -- mostly well formed rows
    local fields = {}
    for c = 1, math.random(1, 3) do
      fields[c] = ({ "x", "1", "\"q,\"\"q\"", "", "{\"k\":1}", "[1,2]", "\"s\"", "null" })[math.random(8)]
    end
    t[r] = table.concat(fields, ({ ",", "|", "\t" })[math.random(3)])
  end
  local s = table.concat(t, math.random(2) == 1 and "\n" or "\r\n")
  if math.random(4) == 1 and #s > 0 then
    local i = math.random(#s)
    s = s:sub(1, i - 1) .. ALPHA[math.random(#ALPHA)] .. s:sub(i + 1)
  end
  return s
end

local function run_readers()
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p '" .. dir .. "/bkt'")
  for i = 1, n do
    local f = assert(io.open(dir .. "/bkt/in", "wb"))
    f:write(random_text())
    f:close()
    local ty = ({ "CSV", "JSONL", "JSON" })[math.random(3)]
    local rc = { InputType = ty }
    if ty == "CSV" then
      rc.CSVHeaderLocation = math.random(2) == 1 and "FIRST_ROW" or "GIVEN"
      if rc.CSVHeaderLocation == "GIVEN" then rc.CSVHeaders = { "a", "b" } end
      rc.CSVDelimiter = ({ "COMMA", "PIPE", "TAB" })[math.random(3)]
    end
    if math.random(3) == 1 then rc.MaxItems = math.random(1, 5) end
    local st = { Type = "Map", End = true,
      ItemReader = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = rc,
        Parameters = { Bucket = "bkt", Key = "in" } },
      ItemProcessor = { ProcessorConfig = { Mode = "DISTRIBUTED" }, StartAt = "P",
        States = { P = { Type = "Pass", End = true } } } }
    if math.random(3) == 1 then st.ItemBatcher = { MaxItemsPerBatch = 2 } end
    if math.random(2) == 1 then
      st.ResultWriter = { Resource = "arn:aws:states:::s3:putObject", Parameters = { Bucket = "out", Prefix = "p" } }
    end
    local e = orchestra.engine { clock = "virtual", data_dir = dir, seed = i }
    local ex = e:load({ StartAt = "M", States = { M = st } }):start({})
    ex:wait()
    count(ex.status)
    if ex.status == "SUCCEEDED" then json.encode(ex.output) end
    e:close()
  end
  os.execute("rm -rf '" .. dir .. "'")
end

-- }======

-- {====== json

-- Mutated JSON texts: decode must give a value or a clear error; a decoded
-- value must encode and decode back to the same text.
local function run_json()
  local seeds = { '{"a":[1,2.5,-0.0,1e300,null,true,{"b":"\\u00e9\\ud83d\\ude00"}],"c":{}}',
    '[9007199254740993,-9223372036854775808,18446744073709551616,0.1,1E-7]',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '{"k":{"k":{"k":[[[[]]]]}}}' }
  local bytes = { "{", "}", "[", "]", ",", ":", "\"", "\\", "u", "0", "9", "-", ".", "e",
    "n", "t", "f", " ", "\n", "\0", "\255", "\195", "\169", "\237\160\128" }
  for _ = 1, n do
    local t = seeds[math.random(#seeds)]
    for _ = 1, math.random(1, 4) do
      local i = math.random(#t + 1)
      local r = math.random(3)
      if r == 1 then
        t = t:sub(1, i - 1) .. bytes[math.random(#bytes)] .. t:sub(i)
      elseif r == 2 then
        t = t:sub(1, i - 1) .. t:sub(i + 1)
      else
        t = t:sub(1, i - 1) .. bytes[math.random(#bytes)] .. t:sub(i + 1)
      end
    end
    local ok, v = pcall(json.decode, t)
    if ok then
      local a = json.encode(v)
      local b = json.encode(json.decode(a))
      if a ~= b then error("round trip differs: " .. a .. " / " .. b) end
      count("decoded")
    else
      if type(v) ~= "string" and type(v) ~= "table" then error("odd error " .. tostring(v)) end
      count("refused")
    end
  end
end

-- }======

-- {====== jsonata

local function run_jsonata()
  local exprs, inputs = {}, {}
  local p = io.popen("ls spec/fixtures/jsonata/groups/*/*.json")
  for path in p:lines() do
    -- pull the expressions out of the text (some cases hold lone
    -- surrogates that orchestra's strict JSON refuses)
    for e in read(path):gmatch('"expr"%s*:%s*"(.-[^\\])"') do
      local ok, v = pcall(json.decode, '"' .. e .. '"')
      if ok then exprs[#exprs + 1] = v end
    end
  end
  p:close()
  for _, name in ipairs({ "dataset0", "dataset5", "library" }) do
    inputs[#inputs + 1] = read("spec/fixtures/jsonata/datasets/" .. name .. ".json")
  end
  local bits = { "(", ")", "[", "]", "{", "}", ".", ",", ";", ":", "$", "$$", "%", "#", "@", "^",
    "~>", "..", "?", "??", "?:", "*", "**", "/", "\\", "\"", "'", "`", "function($x){$x}",
    "$f($f)", "[1..100000]", "/(a+)+$/", "$eval('1+')", "$string($)", "0", "-1", "1e308",
    "\0", "\255", "\237\160\128", " " }
  local limits = { max_steps = 200000, timeout_ms = 200, max_depth = 200 }
  for _ = 1, n do
    local t = exprs[math.random(#exprs)]
    for _ = 1, math.random(0, 3) do
      local i = math.random(#t + 1)
      local r = math.random(3)
      if r == 1 then
        t = t:sub(1, i - 1) .. bits[math.random(#bits)] .. t:sub(i)
      elseif r == 2 then
        t = t:sub(1, i - 1) .. t:sub(i + 1)
      else
        t = t:sub(1, i - 1) .. bits[math.random(#bits)] .. t:sub(i + 1)
      end
    end
    local okc, x = pcall(orchestra.jsonata.compile, t, { aws = math.random(2) == 1 })
    local ok, v = okc, x
    if okc then
      ok, v = pcall(x.evaluate_json, x, inputs[math.random(#inputs)], nil, limits)
    end
    if ok then
      count("evaluated")
    elseif type(v) == "table" and type(v.code) == "string" and #v.code >= 5 then
      count(okc and "evaluation error" or "compile error")
    elseif type(v) == "string" and v:match("jsonata: bad input") then
      count("refused input")
    else
      error("JSONata error without a code for " .. string.format("%q", t) .. ": " .. tostring(v))
    end
  end
end

-- }======

if mode == "definitions" then
  run_definitions()
elseif mode == "json" then
  run_json()
elseif mode == "readers" then
  run_readers()
elseif mode == "jsonata" then
  run_jsonata()
else
  io.stderr:write("usage: lua tools/fuzz.lua definitions|readers|json|jsonata SEED N\n")
  os.exit(2)
end
local keys = {}
for k in pairs(counts) do keys[#keys + 1] = k end
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do parts[#parts + 1] = k .. " " .. counts[k] end
print(mode .. " seed " .. seed .. ": " .. table.concat(parts, ", "))
