-- Distributed Map over files: ItemReader (JSON, JSON Lines, CSV, object
-- listings), the resolver from S3 (bucket, key) to local files, ResultWriter
-- (manifest and result files), the child executions' own histories, and a
-- million-line-style stream in bounded memory.
local orchestra = require "orchestra"
local helper = require "spec.helper"
local json = orchestra.json

local root -- a fresh data directory per test

local function write(rel, text)
  local path = root .. "/" .. rel
  os.execute("mkdir -p " .. helper.shell_quote(path:match("^(.*)/[^/]+$")))
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("*a")
  f:close()
  return t
end

local function dmap(fields, processor_states)
  local st = {
    Type = "Map", End = true,
    ItemProcessor = {
      ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" },
      StartAt = "P",
      States = processor_states or { P = { Type = "Pass", End = true } },
    },
  }
  for k, v in pairs(fields) do st[k] = v end
  return json.encode({ StartAt = "M", States = { M = st } })
end

local function reader(input_type, key, config)
  local rc = config or {}
  rc.InputType = input_type
  return { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = rc,
    Parameters = { Bucket = "bkt", Key = key } }
end

local function run(def, input, opts)
  opts = opts or {}
  opts.clock = "virtual"
  opts.seed = 7
  if opts.data_dir == nil and not opts.resolver then opts.data_dir = root end
  local engine = orchestra.engine(opts)
  local ex = engine:load(def):start(input or {})
  ex:wait()
  return ex, engine
end

-- A fresh data directory for each test.
local function fresh_root()
  root = os.tmpname()
  os.remove(root)
  os.execute("mkdir -p " .. helper.shell_quote(root))
end

local function drop_root()
  os.execute("rm -rf " .. helper.shell_quote(root))
end

local function types(ex)
  local t = {}
  for ev in ex:events() do t[#t + 1] = ev.type end
  return table.concat(t, " ")
end

describe("distributed Map ItemReader", function()
  before_each(fresh_root)
  after_each(drop_root)

  it("reads JSON Lines, skipping blank lines, in item order", function()
    write("bkt/in.jsonl", '{"a":1}\n\n{"a":2}\r\n{"a":3}\n')
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl") }))
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.same({ { a = 1 }, { a = 2 }, { a = 3 } }, ex.output)
    assert.are.equal("ExecutionStarted MapStateEntered MapStateStarted MapRunStarted "
      .. "MapRunSucceeded MapStateSucceeded MapStateExited ExecutionSucceeded", types(ex))
  end)

  it("reads CSV with a header row, quotes, escaped quotes and CRLF", function()
    write("bkt/in.csv", 'id,name,note\r\n1,"x, y",plain\r\n2,"he said ""hi""","multi\nline"\r\n')
    local ex = run(dmap({ ItemReader = reader("CSV", "in.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.same({
      { id = "1", name = "x, y", note = "plain" },
      { id = "2", name = 'he said "hi"', note = "multi\nline" },
    }, ex.output)
  end)

  it("reads empty CSV fields and refuses a header row that is not UTF-8", function()
    write("bkt/empty.csv", "a,b,c\n,x,\n")
    local ex = run(dmap({ ItemReader = reader("CSV", "empty.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.same({ { a = "", b = "x", c = "" } }, ex.output)
    write("bkt/latin1.csv", "caf\233,b\n1,2\n")
    ex = run(dmap({ ItemReader = reader("CSV", "latin1.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.equal("States.ItemReaderFailed", ex.error)
    assert.are.equal("the CSV header row is not valid UTF-8", ex.cause)
    write("bkt/latin1v.csv", "a,b\ncaf\233,2\n")
    ex = run(dmap({ ItemReader = reader("CSV", "latin1v.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.equal("line 2: a field is not valid UTF-8", ex.cause)
  end)

  it("reads CSV with given headers and another delimiter", function()
    write("bkt/in.psv", "1|a\n2|b\n")
    local ex = run(dmap({ ItemReader = reader("CSV", "in.psv", { CSVHeaderLocation = "GIVEN",
      CSVHeaders = { "n", "s" }, CSVDelimiter = "PIPE" }) }))
    assert.are.same({ { n = "1", s = "a" }, { n = "2", s = "b" } }, ex.output)
  end)

  it("reads a JSON array with MaxItems, MaxItemsPath and an ItemSelector", function()
    write("bkt/in.json", "[10, 20, 30, 40]")
    local ex = run(dmap({ ItemReader = reader("JSON", "in.json", { MaxItems = 3 }),
      ItemSelector = { ["v.$"] = "$$.Map.Item.Value", ["i.$"] = "$$.Map.Item.Index" } }))
    assert.are.same({ { v = 10, i = 0 }, { v = 20, i = 1 }, { v = 30, i = 2 } }, ex.output)
    ex = run(dmap({ ItemReader = reader("JSON", "in.json", { MaxItemsPath = "$.max" }) }), { max = 2 })
    assert.are.same({ 10, 20 }, ex.output)
    ex = run(dmap({ ItemReader = reader("JSON", "in.json", { MaxItemsPath = "$.max" }) }), { max = 0 })
    assert.are.equal("States.ItemReaderFailed", ex.error)
    assert.are.equal("field MaxItems must be positive", ex.cause)
  end)

  it("takes Bucket and Key from the input through Parameters paths", function()
    write("data-bucket/2026/in.jsonl", "1\n2\n")
    local r = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = { InputType = "JSONL" },
      Parameters = { ["Bucket.$"] = "$.bucket", ["Key.$"] = "States.Format('{}/in.jsonl', $.year)" } }
    local ex = run(dmap({ ItemReader = r }), { bucket = "data-bucket", year = 2026 })
    assert.are.same({ 1, 2 }, ex.output)
  end)

  it("batches streamed items with ItemBatcher", function()
    write("bkt/in.jsonl", "1\n2\n3\n4\n5\n")
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl"),
      ItemBatcher = { MaxItemsPerBatch = 2, BatchInput = { ["tag.$"] = "$.tag" } } }), { tag = "t" })
    assert.are.same({
      { Items = { 1, 2 }, BatchInput = { tag = "t" } },
      { Items = { 3, 4 }, BatchInput = { tag = "t" } },
      { Items = { 5 }, BatchInput = { tag = "t" } },
    }, ex.output)
  end)

  it("lists objects under a prefix with s3:listObjectsV2, in key order", function()
    write("bkt/logs/b.txt", "bb")
    write("bkt/logs/a.txt", "a")
    write("bkt/other.txt", "zzz")
    local ex = run(dmap({ ItemReader = { Resource = "arn:aws:states:::s3:listObjectsV2",
      Parameters = { Bucket = "bkt", Prefix = "logs/" } } }))
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.equal(2, #ex.output)
    assert.are.equal("logs/a.txt", ex.output[1].Key)
    assert.are.equal(1, ex.output[1].Size)
    assert.are.equal('"0cc175b9c0f1b6a831c399e269772661"', ex.output[1].Etag) -- MD5 of "a"
    assert.are.equal("STANDARD", ex.output[1].StorageClass)
    assert.are.equal("logs/b.txt", ex.output[2].Key)
  end)

  it("fails the map run with States.ItemReaderFailed as AWS records it", function()
    os.execute("mkdir -p " .. helper.shell_quote(root .. "/bkt") .. " " .. helper.shell_quote(root .. "/out")) -- the bucket exists, the key not
    local ex = run(dmap({ ItemReader = reader("JSON", "missing.json") }))
    assert.are.equal("FAILED", ex.status)
    assert.are.equal("States.ItemReaderFailed", ex.error)
    assert.are.equal("The specified key does not exist.", ex.cause)
    assert.are.equal("ExecutionStarted MapStateEntered MapStateStarted MapRunStarted "
      .. "MapRunFailed MapStateFailed ExecutionFailed", types(ex))
    local started = ex:history().events[3]
    assert.are.equal(0, started.mapStateStartedEventDetails.length)

    write("bkt/obj.json", '{"not":"an array"}')
    ex = run(dmap({ ItemReader = reader("JSON", "obj.json") }))
    assert.are.equal("Attempting to map over non-iterable node.", ex.cause)

    write("bkt/dup.csv", "a,a\n1,2\n")
    ex = run(dmap({ ItemReader = reader("CSV", "dup.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.equal("CSV headers cannot contain duplicates.", ex.cause)

    write("bkt/bad.jsonl", '{"a":1}\n{oops\n')
    ex = run(dmap({ ItemReader = reader("JSONL", "bad.jsonl") }))
    assert.are.equal("States.ItemReaderFailed", ex.error)
    assert.truthy(ex.cause:find("line 2 is not JSON", 1, true), ex.cause)

    write("bkt/short.csv", "a,b\n1\n")
    ex = run(dmap({ ItemReader = reader("CSV", "short.csv", { CSVHeaderLocation = "FIRST_ROW" }) }))
    assert.are.equal("line 2: 1 field but 2 headers", ex.cause)

    ex = run(dmap({ ItemReader = reader("JSON", "../../etc/passwd") }))
    assert.are.equal("the key '../../etc/passwd' leaves the data directory", ex.cause)
  end)

  it("is caught by a Catch like any other error", function()
    local def = json.decode(dmap({ ItemReader = reader("JSON", "missing.json") }))
    def.States.M.End = nil
    def.States.M.Next = "Done"
    def.States.M.Catch = { { ErrorEquals = { "States.ItemReaderFailed" }, Next = "Done", ResultPath = "$.err" } }
    def.States.Done = { Type = "Succeed" }
    local ex = run(json.encode(def))
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.equal("States.ItemReaderFailed", ex.output.err.Error)
  end)

  it("asks a host resolver for paths", function()
    write("elsewhere/items.jsonl", "7\n8\n")
    local asked = {}
    local ex = run(dmap({ ItemReader = reader("JSONL", "k/items.jsonl") }), {}, {
      resolver = function(bucket, key, mode)
        asked[#asked + 1] = bucket .. ":" .. key .. ":" .. mode
        return root .. "/elsewhere/items.jsonl"
      end })
    assert.are.same({ 7, 8 }, ex.output)
    assert.are.same({ "bkt:k/items.jsonl:read" }, asked)
    ex = run(dmap({ ItemReader = reader("JSONL", "k") }), {}, {
      resolver = function() error("no such bucket here") end })
    assert.are.equal("States.ItemReaderFailed", ex.error)
    assert.truthy(ex.cause:find("no such bucket here", 1, true), ex.cause)
  end)

  it("gives each child execution its own history, linked to the map run", function()
    write("bkt/in.jsonl", '{"x":1}\n{"x":2}\n')
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl") }, {
      P = { Type = "Pass", Parameters = { ["id.$"] = "$$.Execution.Id", ["x.$"] = "$.x" }, End = true } }))
    assert.are.equal("SUCCEEDED", ex.status)
    local kids = ex:children()
    assert.are.equal(2, #kids)
    local run_arn
    for ev in ex:events() do
      if ev.type == "MapRunStarted" then run_arn = ev.mapRunStartedEventDetails.mapRunArn end
    end
    assert.truthy(run_arn:match("^arn:aws:states:us%-east%-1:123456789012:mapRun:StateMachine/M:"))
    for i, c in ipairs(kids) do
      assert.are.equal("SUCCEEDED", c.status)
      assert.are.equal(run_arn, c.map_run_arn)
      assert.are.equal(ex.arn, c.parent_arn)
      assert.truthy(c.arn:match("^arn:aws:states:us%-east%-1:123456789012:execution:StateMachine/M:"))
      assert.are.same({ x = i }, c.input)
      -- $$.Execution inside the child is the child execution
      assert.are.same({ id = c.arn, x = i }, c.output)
      local t = {}
      for _, ev in ipairs(c.history.events) do t[#t + 1] = ev.type end
      assert.are.equal("ExecutionStarted PassStateEntered PassStateExited ExecutionSucceeded",
        table.concat(t, " "))
    end
    assert.are.same({ { id = kids[1].arn, x = 1 }, { id = kids[2].arn, x = 2 } }, ex.output)
  end)

  it("records failed children as FAILED executions and keeps tolerated ones", function()
    write("bkt/in.jsonl", "1\n2\n3\n")
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl"), ToleratedFailureCount = 5 }, {
      P = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = 2, Next = "Bad" } }, Default = "Ok" },
      Bad = { Type = "Fail", Error = "Two", Cause = "no twos" },
      Ok = { Type = "Succeed" } }))
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.same({ 1, { Error = "Two", Cause = "no twos" }, 3 }, ex.output)
    local statuses = {}
    for _, c in ipairs(ex:children()) do statuses[#statuses + 1] = c.status end
    table.sort(statuses)
    assert.are.same({ "FAILED", "SUCCEEDED", "SUCCEEDED" }, statuses)
  end)
end)

describe("distributed Map ResultWriter", function()
  before_each(function()
    fresh_root()
    os.execute("mkdir -p " .. helper.shell_quote(root .. "/out")) -- the results' bucket
  end)
  after_each(drop_root)

  local writer = { Resource = "arn:aws:states:::s3:putObject",
    Parameters = { Bucket = "out", Prefix = "runs" } }

  it("writes SUCCEEDED/FAILED files and a manifest, and returns where", function()
    write("bkt/in.jsonl", "1\n2\n3\n")
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl"), ResultWriter = writer,
      ToleratedFailurePercentage = 50 }, {
      P = { Type = "Choice", Choices = { { Variable = "$", NumericEquals = 2, Next = "Bad" } }, Default = "Ok" },
      Bad = { Type = "Fail", Error = "Two", Cause = "no twos" },
      Ok = { Type = "Pass", Parameters = { ["n.$"] = "$" }, End = true } }))
    assert.are.equal("SUCCEEDED", ex.status)
    local id = ex.output.MapRunArn:match(":([%x%-]+)$")
    assert.are.same({ Bucket = "out", Key = "runs/" .. id .. "/manifest.json" }, ex.output.ResultWriterDetails)
    local man = json.decode(read(root .. "/out/runs/" .. id .. "/manifest.json"))
    assert.are.equal("out", man.DestinationBucket)
    assert.are.equal(ex.output.MapRunArn, man.MapRunArn)
    assert.are.equal("runs/" .. id .. "/SUCCEEDED_0.json", man.ResultFiles.SUCCEEDED[1].Key)
    assert.are.equal("runs/" .. id .. "/FAILED_0.json", man.ResultFiles.FAILED[1].Key)
    assert.are.equal(0, #man.ResultFiles.PENDING)
    local ok_text = read(root .. "/out/runs/" .. id .. "/SUCCEEDED_0.json")
    assert.are.equal(#ok_text, man.ResultFiles.SUCCEEDED[1].Size)
    local ok = json.decode(ok_text)
    assert.are.equal(2, #ok)
    local outs = {}
    for _, r in ipairs(ok) do
      assert.are.equal("SUCCEEDED", r.Status)
      assert.truthy(r.ExecutionArn:match(":execution:StateMachine/M:"))
      outs[#outs + 1] = json.decode(r.Output).n
    end
    table.sort(outs)
    assert.are.same({ 1, 3 }, outs)
    local bad = json.decode(read(root .. "/out/runs/" .. id .. "/FAILED_0.json"))
    assert.are.equal(1, #bad)
    assert.are.equal("FAILED", bad[1].Status)
    assert.are.equal("Two", bad[1].Error)
    assert.are.equal("2", bad[1].Input)
  end)

  it("writes compact JSON Lines with WriterConfig, and lists no empty files", function()
    write("bkt/in.jsonl", "[1,2]\n[3]\n")
    local w = { Resource = writer.Resource, Parameters = writer.Parameters,
      WriterConfig = { OutputType = "JSONL", Transformation = "FLATTEN" } }
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl"), ResultWriter = w,
      MaxConcurrency = 1 }))
    local id = ex.output.MapRunArn:match(":([%x%-]+)$")
    assert.are.equal("1\n2\n3\n", read(root .. "/out/runs/" .. id .. "/SUCCEEDED_0.jsonl"))
    assert.is_nil(read(root .. "/out/runs/" .. id .. "/FAILED_0.jsonl"))
    local man = json.decode(read(root .. "/out/runs/" .. id .. "/manifest.json"))
    assert.are.equal(0, #man.ResultFiles.FAILED)
  end)

  it("applies a WriterConfig alone to the state's output", function()
    write("bkt/in.jsonl", "[1,2]\n[3]\n")
    local ex = run(dmap({ ItemReader = reader("JSONL", "in.jsonl"),
      ResultWriter = { WriterConfig = { Transformation = "FLATTEN" } } }))
    assert.are.same({ 1, 2, 3 }, ex.output)
  end)

  it("streams a large JSON Lines file in bounded memory", function()
    -- a child process reports its peak RSS for 10,000 and 100,000 lines:
    -- results go to files, so the peak must not grow with the item count
    local f = assert(io.open(root .. "/gen.lua", "w"))
    f:write([[
      local orchestra = require "orchestra"
      local n, root = tonumber(arg[1]), arg[2]
      local out = assert(io.open(root .. "/bkt/big.jsonl", "w"))
      for i = 1, n do out:write('{"id":', i, ',"pad":"', string.rep("x", 40), '"}\n') end
      out:close()
      local e = orchestra.engine { clock = "virtual", data_dir = root, history = "none" }
      local def = orchestra.json.encode({ StartAt = "M", States = { M = { Type = "Map", End = true,
        MaxConcurrency = 500,
        ItemReader = { Resource = "arn:aws:states:::s3:getObject", ReaderConfig = { InputType = "JSONL" },
          Parameters = { Bucket = "bkt", Key = "big.jsonl" } },
        ResultWriter = { Resource = "arn:aws:states:::s3:putObject", Parameters = { Bucket = "out", Prefix = "p" } },
        ItemProcessor = { ProcessorConfig = { Mode = "DISTRIBUTED" }, StartAt = "P",
          States = { P = { Type = "Pass", Parameters = { ["id.$"] = "$.id" }, End = true } } } } } })
      local ex = e:load(def):start({})
      ex:wait()
      assert(ex.status == "SUCCEEDED", tostring(ex.cause))
      for line in io.lines("/proc/self/status") do
        local kb = line:match("^VmHWM:%s*(%d+)")
        if kb then print(kb) end
      end
    ]])
    f:close()
    os.execute("mkdir -p " .. helper.shell_quote(root .. "/bkt") .. " " .. helper.shell_quote(root .. "/out"))
    local function peak(n)
      -- (under AddressSanitizer, freed memory must not sit in quarantine)
      local status, out, err = helper.run("ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=0 "
        .. helper.lua_env() .. helper.LUA .. " "
        .. helper.shell_quote(root .. "/gen.lua") .. " " .. n .. " " .. helper.shell_quote(root))
      assert.are.equal(0, status, err)
      return tonumber(out:match("(%d+)"))
    end
    local small, large = peak(10000), peak(100000)
    -- keeping 90,000 more results would cost tens of MiB
    assert.is_true(large - small < 6 * 1024, ("peak RSS %d KiB vs %d KiB"):format(large, small))
  end)
end)

describe("distributed Map stepping", function()
  it("starts thousands of children a batch at a time, so one step stays short", function()
    local items = {}
    for i = 1, 5000 do items[i] = i end
    local e = orchestra.engine { clock = "virtual", max_transitions_per_step = 10, history = "none" }
    local ex = e:load(dmap({})):start(items)
    local left = e:step()
    -- 10 units of work: at most 10 batches of children started, not 5,000
    assert.is_true(left > 0 and left < 1000, "runnable after one step: " .. left)
    assert.are.equal("RUNNING", ex.status)
    local steps = 1
    while ex.status == "RUNNING" and steps < 100000 do e:step() steps = steps + 1 end
    assert.are.equal("SUCCEEDED", ex.status)
    assert.are.equal(5000, #ex.output)
    assert.are.equal(1, ex.output[1])
    assert.are.equal(5000, ex.output[5000])
  end)
end)

describe("distributed Map validation", function()
  local function problems(def)
    local ok, errs = orchestra.validate(def)
    assert.is_false(ok)
    local t = {}
    for _, e in ipairs(errs) do t[#t + 1] = e.pointer .. ": " .. e.message end
    return table.concat(t, "\n")
  end

  it("names the field of each mistake", function()
    local inline = json.decode(dmap({ ItemReader = reader("JSON", "k") }))
    inline.States.M.ItemProcessor.ProcessorConfig.Mode = "INLINE"
    assert.truthy(problems(json.encode(inline)):find(
      "/States/M/ItemReader: an ItemReader needs a distributed Map", 1, true))
    assert.truthy(problems(dmap({ ItemReader = reader("JSON", "k"), ItemsPath = "$.x" })):find(
      "/States/M/ItemReader: a Map with an ItemReader cannot have ItemsPath", 1, true))
    assert.truthy(problems(dmap({ ItemReader = { Resource = "arn:aws:states:::s3:getObject",
      Parameters = { Bucket = "b", Key = "k" } } })):find(
      "/States/M/ItemReader/ReaderConfig: s3:getObject needs ReaderConfig.InputType", 1, true))
    assert.truthy(problems(dmap({ ItemReader = reader("XML", "k") })):find(
      "/States/M/ItemReader/ReaderConfig/InputType: InputType must be one of", 1, true))
    assert.truthy(problems(dmap({ ItemReader = reader("CSV", "k", { CSVHeaderLocation = "GIVEN" }) })):find(
      "CSVHeaderLocation \"GIVEN\" needs CSVHeaders", 1, true))
    assert.truthy(problems(dmap({ ItemReader = reader("CSV", "k",
      { CSVHeaderLocation = "GIVEN", CSVHeaders = { "a", "a" } }) })):find(
      "/States/M/ItemReader/ReaderConfig/CSVHeaders/1: CSV headers cannot contain duplicates", 1, true))
    assert.truthy(problems(dmap({ ItemReader = reader("JSON", "k", { MaxItems = 0 }) })):find(
      "/States/M/ItemReader/ReaderConfig/MaxItems: MaxItems must be an integer", 1, true))
    assert.truthy(problems(dmap({ ResultWriter = { Resource = "arn:aws:states:::s3:getObject",
      Parameters = { Bucket = "b" } } })):find(
      "/States/M/ResultWriter/Resource: ResultWriter Resource must be", 1, true))
  end)

  it("says which input types are not supported yet", function()
    local engine = orchestra.engine {}
    local ok, err = pcall(engine.load, engine, dmap({ ItemReader = reader("PARQUET", "k") }))
    assert.is_false(ok)
    assert.truthy(tostring(err.message):find("InputType PARQUET is not supported yet", 1, true))
  end)
end)

describe("orchestra run --data-dir", function()
  it("maps the ItemReader's bucket to a directory", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. helper.shell_quote(dir .. "/bkt"))
    local f = assert(io.open(dir .. "/bkt/in.jsonl", "w"))
    f:write("1\n2\n")
    f:close()
    f = assert(io.open(dir .. "/def.json", "w"))
    f:write(dmap({ ItemReader = reader("JSONL", "in.jsonl") }))
    f:close()
    local status, out, err = helper.run(helper.lua_env() .. helper.LUA .. " bin/orchestra run "
      .. helper.shell_quote(dir .. "/def.json") .. " --data-dir " .. helper.shell_quote(dir))
    os.execute("rm -rf " .. helper.shell_quote(dir))
    assert.are.equal(0, status, err)
    assert.are.same({ 1, 2 }, json.decode(out))
  end)
end)
