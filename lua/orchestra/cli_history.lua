--- `orchestra history FILE.json`: an execution history (as `orchestra run
-- --history` or `ex:history_json()` writes it) printed one line per event,
-- failures and retries marked, with a summary at the end.
-- @module orchestra.cli_history

local orchestra = require "orchestra"
local cli = require "orchestra.cli"

local M = {}

local PAYLOAD_WIDTH = 60

-- The details table of an event (the one field ending in "EventDetails").
local function details_of(event)
  for k, v in pairs(event) do
    if type(k) == "string" and k:match("EventDetails$") and type(v) == "table" then return v end
  end
  return nil
end

-- Payload text on one line, cut to PAYLOAD_WIDTH characters.
local function short(text)
  if text == nil then return "" end
  text = tostring(text):gsub("%s+", " ")
  if #text > PAYLOAD_WIDTH then text = text:sub(1, PAYLOAD_WIDTH - 3) .. "..." end
  return text
end

-- The resource a task event names ("arn:...:function:f" for Lambda,
-- "lambda:invoke" for a service integration).
local function resource_of(d)
  if d == nil or d.resource == nil then return nil end
  if d.resourceType then return d.resourceType .. ":" .. d.resource end
  return d.resource
end

local FINAL = {
  ExecutionSucceeded = "SUCCEEDED", ExecutionFailed = "FAILED",
  ExecutionTimedOut = "TIMED_OUT", ExecutionAborted = "ABORTED",
}

--- Rows and summary of a decoded history `{events = {...}}`.
-- Each row: `id`, `offset` (seconds since the first event), `type`,
-- `state` (the state the event belongs to, or ""), `payload` (short text),
-- `mark` ("FAILED", "RETRY" or ""). The summary: `status`, `duration`
-- (seconds), `transitions` (states entered), `events`, `tasks` (resource
-- -> times scheduled).
-- @tparam table history
-- @treturn table rows
-- @treturn table summary
function M.summarize(history)
  local events = history.events
  local rows, state_of, failed_in = {}, {}, {}
  local summary = { status = "RUNNING", duration = 0, transitions = 0,
                    events = #events, tasks = {} }
  local t0 = events[1] and events[1].timestamp or 0
  for _, e in ipairs(events) do
    local d = details_of(e) or {}
    local state = d.name or state_of[e.previousEventId] or ""
    if e.type:match("^Execution") then state = "" end
    state_of[e.id] = state
    local mark = ""
    local payload = d.input or d.output or ""
    if e.type:match("StateEntered$") then
      summary.transitions = summary.transitions + 1
    end
    if d.error or e.type:match("Failed$") or e.type:match("TimedOut$")
      or e.type == "ExecutionAborted" then
      mark = "FAILED"
      payload = (d.error or "") .. (d.cause and (": " .. d.cause) or "")
      failed_in[state] = true
    end
    if e.type:match("Scheduled$") then
      local r = resource_of(d) or "?"
      summary.tasks[r] = (summary.tasks[r] or 0) + 1
      if failed_in[state] then mark = "RETRY" end
      payload = d.parameters or d.input or payload
    end
    if e.type:match("StateExited$") then failed_in[state] = nil end
    if FINAL[e.type] then summary.status = FINAL[e.type] end
    local ts = e.timestamp or t0
    if ts - t0 > summary.duration then summary.duration = ts - t0 end
    rows[#rows + 1] = { id = e.id, offset = ts - t0, type = e.type, state = state,
                        payload = short(payload), mark = mark }
  end
  return rows, summary
end

local function format_table(rows, summary)
  local out = {}
  local wtype, wstate = #"TYPE", #"STATE"
  for _, r in ipairs(rows) do
    if #r.type > wtype then wtype = #r.type end
    if #r.state > wstate then wstate = #r.state end
  end
  local fmt = "%4s  %10s  %-6s  %-" .. wtype .. "s  %-" .. wstate .. "s  %s"
  out[#out + 1] = (fmt:format("ID", "TIME", "", "TYPE", "STATE", "PAYLOAD"):gsub("%s+$", ""))
  for _, r in ipairs(rows) do
    out[#out + 1] = (fmt:format(r.id, ("+%.3fs"):format(r.offset), r.mark, r.type, r.state,
      r.payload):gsub("%s+$", ""))
  end
  out[#out + 1] = ""
  out[#out + 1] = ("status: %s   duration: %.3f s   transitions: %d   events: %d"):format(
    summary.status, summary.duration, summary.transitions, summary.events)
  local resources = {}
  for r in pairs(summary.tasks) do resources[#resources + 1] = r end
  table.sort(resources)
  if #resources == 0 then
    out[#out + 1] = "tasks: none"
  else
    out[#out + 1] = "tasks:"
    for _, r in ipairs(resources) do
      out[#out + 1] = ("  %5d  %s"):format(summary.tasks[r], r)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

local function format_json(rows, summary)
  local list = orchestra.array()
  for _, r in ipairs(rows) do list[#list + 1] = r end
  local tasks = orchestra.object()
  for k, v in pairs(summary.tasks) do tasks[k] = v end
  summary.tasks = tasks
  return orchestra.json.encode({ events = list, summary = summary }, { indent = true }) .. "\n"
end

local function run(args)
  local opts, pos = {}, {}
  local i = 2
  while i <= #args do
    local a = args[i]
    local name, value = a:match("^%-%-([^=]+)=(.*)$")
    if a == "--format" or name == "format" then
      if value == nil then
        i = i + 1
        value = args[i]
      end
      if value ~= "table" and value ~= "json" then
        io.stderr:write("orchestra: history: --format must be table or json, not '",
          tostring(value), "'\n")
        return cli.EXIT_USAGE
      end
      opts.format = value
    elseif a:sub(1, 2) == "--" then
      io.stderr:write("orchestra: history: unknown option '", a, "'\n")
      return cli.EXIT_USAGE
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  if #pos ~= 1 then
    io.stderr:write("orchestra: history: expected one history file (see orchestra history --help)\n")
    return cli.EXIT_USAGE
  end
  local text, e = cli.read_file(pos[1])
  if not text then
    io.stderr:write("orchestra: history: ", e, "\n")
    return cli.EXIT_NOINPUT
  end
  local ok, h = pcall(orchestra.json.decode, text)
  if not ok or type(h) ~= "table" or type(h.events) ~= "table" then
    io.stderr:write("orchestra: history: ", pos[1], " is not an execution history ",
      "({\"events\": [...]})", ok and "" or (": " .. tostring(h):gsub("^[^:]*:%d+: ", "")), "\n")
    return cli.EXIT_USAGE
  end
  for k, ev in ipairs(h.events) do
    if type(ev) ~= "table" or type(ev.type) ~= "string" then
      io.stderr:write("orchestra: history: ", pos[1], ": event ", k,
        " has no type (not an execution history)\n")
      return cli.EXIT_USAGE
    end
  end
  local rows, summary = M.summarize(h)
  io.stdout:write((opts.format == "json" and format_json or format_table)(rows, summary))
  return cli.EXIT_OK
end

cli.command {
  name = "history",
  summary = "print an execution history, one line per event, and a summary",
  usage = "history HISTORY.json [--format table|json]",
  help = [[
Reads a history as orchestra run --history writes it ({"events": [...]}; "-"
reads standard input) and prints one line per event: its id, the time since
the first event, FAILED (a failure) or RETRY (a task scheduled again after
one), the type, the state it belongs to and a short payload (input, output,
or Error: Cause). The summary at the end gives the status, the duration, the
transitions (states entered) and the tasks by resource. --format json prints
the same as {"events": [...], "summary": {...}}.
]],
  run = run,
}

return M
