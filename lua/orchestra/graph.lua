--- A picture of a machine: draw an Amazon States Language definition as
-- Graphviz DOT or Mermaid text, optionally coloured by an execution's
-- history the way the Step Functions console's graph inspector does.
-- Pure Lua (5.1–5.4, LuaJIT); needs the C module only to decode a history
-- given as JSON text.
-- @module orchestra.graph

local M = {}

--- How a history colours the states (fill / border), as the console does.
-- Also written as a legend comment into every graph drawn with a history.
M.COLOURS = {
  succeeded = { fill = "#a5d6a7", border = "#2e7d32", colour = "green",
    what = "entered and exited" },
  failed = { fill = "#ef9a9a", border = "#c62828", colour = "red",
    what = "active when its error or the execution's failure happened" },
  caught = { fill = "#ffcc80", border = "#ef6c00", colour = "orange",
    what = "failed, and a Catch sent the error on" },
  running = { fill = "#90caf9", border = "#1565c0", colour = "blue",
    what = "in progress (entered, not exited, the execution still running)" },
  cancelled = { fill = "#e0e0e0", border = "#757575", colour = "grey",
    what = "entered, then stopped by another state's failure or an abort" },
}

-- The precedence when a state was visited more than once (a loop, Map
-- iterations): the first status in this list that any visit had wins.
local STATUS_ORDER = { "failed", "running", "caught", "succeeded", "cancelled" }
local STATUS_RANK = {}
for i, s in ipairs(STATUS_ORDER) do STATUS_RANK[s] = i end

local MAX_EDGE_LABEL = 80  -- bytes; longer rule renderings end in "..."

-- {====== small helpers

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

local function str(v)
  if type(v) == "string" then return v end
  return nil
end

local function list(v)  -- a decoded JSON array, or an empty list
  if type(v) == "table" then return v end
  return {}
end

-- Cut s to at most max bytes without splitting a UTF-8 sequence.
local function shorten(s, max)
  if #s <= max then return s end
  local cut = max - 3
  while cut > 0 do
    local b = s:byte(cut + 1)
    if not b or b < 0x80 or b >= 0xC0 then break end  -- not a continuation
    cut = cut - 1
  end
  return s:sub(1, cut) .. "..."
end

local function number_text(n)
  if n == math.floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then
    return string.format("%d", n)
  end
  for _, fmt in ipairs({ "%.15g", "%.16g" }) do
    local s = string.format(fmt, n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

-- A short JSON-like rendering of a rule's operand.
local function value_text(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub("[\\\"]", "\\%0") .. '"'
  elseif t == "number" then
    return number_text(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    return next(v) == nil and "{}" or "{...}"
  end
  return "null"  -- orchestra.null (a light userdata)
end

-- }======

-- {====== Choice rules and state details

local OPERATORS = {
  Equals = "==", LessThan = "<", GreaterThan = ">",
  LessThanEquals = "<=", GreaterThanEquals = ">=", Matches = "matches",
}
local FAMILIES = { "String", "Numeric", "Boolean", "Timestamp" }
local TESTS = { "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean",
  "IsTimestamp" }

local function jsonata_text(s)
  return (s:gsub("^%s*{%%%s*(.-)%s*%%}%s*$", "%1"))
end

local rule_text

local function rules_text(op, rules)
  local parts = {}
  for _, r in ipairs(list(rules)) do parts[#parts + 1] = rule_text(r) end
  return op .. "(" .. table.concat(parts, ", ") .. ")"
end

--- A short rendering of a Choice rule: `$.amount > 100`,
-- `$.kind == "vip"`, `And(..., ...)`, `IsPresent($.x)`, `!IsNull($.x)`.
-- @tparam table rule
-- @treturn string
function rule_text(rule)
  if type(rule) ~= "table" then return "?" end
  if str(rule.Condition) then return jsonata_text(rule.Condition) end
  if rule.And ~= nil then return rules_text("And", rule.And) end
  if rule.Or ~= nil then return rules_text("Or", rule.Or) end
  if rule.Not ~= nil then return "Not(" .. rule_text(rule.Not) .. ")" end
  local var = str(rule.Variable) or "?"
  for _, test in ipairs(TESTS) do
    local v = rule[test]
    if v ~= nil then
      return (v == false and "!" or "") .. test .. "(" .. var .. ")"
    end
  end
  for _, key in ipairs(sorted_keys(rule)) do
    for _, family in ipairs(FAMILIES) do
      local rest = key:sub(1, #family) == family and key:sub(#family + 1)
      if rest and rest ~= "" then
        local is_path = rest:sub(-4) == "Path"
        local op = OPERATORS[is_path and rest:sub(1, -5) or rest]
        if op then
          local v = rule[key]
          local operand = is_path and (str(v) or "?") or value_text(v)
          return var .. " " .. op .. " " .. operand
        end
      end
    end
  end
  return var .. " ?"
end

M.rule_text = rule_text

local function error_list(v)
  local names = {}
  for _, e in ipairs(list(v)) do names[#names + 1] = tostring(e) end
  return table.concat(names, ", ")
end

local function retry_lines(st, lines)
  for _, r in ipairs(list(st.Retry)) do
    if type(r) == "table" then
      local n = type(r.MaxAttempts) == "number" and r.MaxAttempts or 3
      lines[#lines + 1] = "retry: " .. error_list(r.ErrorEquals) .. " x"
        .. number_text(n)
    end
  end
end

local function seconds_text(v)
  if type(v) == "number" then return number_text(v) .. "s" end
  if str(v) then return jsonata_text(v) end
  return "?"
end

-- The label lines after the name: the type, then what matters about it.
local function detail_lines(st)
  local t = str(st.Type) or "?"
  local lines = { t }
  if t == "Wait" then
    if st.Seconds ~= nil then
      lines[1] = "Wait " .. seconds_text(st.Seconds)
    elseif st.SecondsPath ~= nil then
      lines[1] = "Wait " .. tostring(st.SecondsPath) .. " s"
    elseif st.Timestamp ~= nil then
      lines[1] = "Wait until " .. (str(st.Timestamp) and jsonata_text(st.Timestamp) or "?")
    elseif st.TimestampPath ~= nil then
      lines[1] = "Wait until " .. tostring(st.TimestampPath)
    end
  elseif t == "Map" then
    local proc = type(st.ItemProcessor) == "table" and st.ItemProcessor
    local config = proc and type(proc.ProcessorConfig) == "table" and proc.ProcessorConfig
    if config and config.Mode == "DISTRIBUTED" then lines[1] = "Map (distributed)" end
    if str(st.ItemsPath) then lines[#lines + 1] = "items: " .. st.ItemsPath end
    if str(st.Items) then lines[#lines + 1] = "items: " .. jsonata_text(st.Items) end
  elseif t == "Fail" then
    if str(st.Error) then lines[#lines + 1] = "error: " .. st.Error end
  end
  retry_lines(st, lines)
  return lines
end

-- }======

-- {====== the model: nodes, clusters and edges, independent of the format

local KINDS = {
  Task = "task", Pass = "pass", Choice = "choice", Wait = "wait",
  Succeed = "succeed", Fail = "fail", Map = "map", Parallel = "parallel",
}

local function is_container(st)
  return st.Type == "Map" or st.Type == "Parallel"
end

-- A safe, unique identifier for `name`: prefix + name with every byte
-- outside [A-Za-z0-9_] turned into "_", then "_2", "_3"... on a clash. The
-- prefixes keep kinds apart: s_ states, m_ missing states, j_ joins,
-- n_ start/end, c_ and b<N>_ clusters.
local function new_id(g, prefix, name)
  local base = prefix .. tostring(name):gsub("[^A-Za-z0-9_]", "_")
  local id, n = base, 1
  while g.used[id] do
    n = n + 1
    id = base .. "_" .. n
  end
  g.used[id] = true
  return id
end

-- StartAt first, then breadth-first along transitions (Next, Choices,
-- Default, Catch, in that order), then the unreachable rest sorted.
local function transitions(st)
  local out = {}
  if str(st.Next) then out[#out + 1] = st.Next end
  for _, c in ipairs(list(st.Choices)) do
    if type(c) == "table" and str(c.Next) then out[#out + 1] = c.Next end
  end
  if str(st.Default) then out[#out + 1] = st.Default end
  for _, c in ipairs(list(st.Catch)) do
    if type(c) == "table" and str(c.Next) then out[#out + 1] = c.Next end
  end
  return out
end

local function state_order(states, start)
  local order, seen = {}, {}
  if start and type(states[start]) == "table" then
    order[1], seen[start] = start, true
    local i = 1
    while i <= #order do
      for _, target in ipairs(transitions(states[order[i]])) do
        if not seen[target] and type(states[target]) == "table" then
          seen[target] = true
          order[#order + 1] = target
        end
      end
      i = i + 1
    end
  end
  for _, name in ipairs(sorted_keys(states)) do
    if not seen[name] and type(states[name]) == "table" then
      order[#order + 1] = name
    end
  end
  return order
end

local add_container

-- Add the states of `scope` ({StartAt=, States=}) to `items`; End
-- transitions go to node `end_id`. Returns the endpoint of StartAt
-- ({id=, lhead=}) for the caller to link to.
local function add_scope(g, items, scope, end_id)
  local states = type(scope.States) == "table" and scope.States or {}
  local order = state_order(states, str(scope.StartAt))
  local ids, missing, missing_order = {}, {}, {}
  for _, name in ipairs(order) do ids[name] = new_id(g, "s_", name) end

  local function target(name)
    local st = states[name]
    if type(st) == "table" then
      return { id = ids[name], lhead = is_container(st) and ids[name] or nil, name = name }
    end
    if not missing[name] then
      missing[name] = new_id(g, "m_", name)
      missing_order[#missing_order + 1] = name
    end
    return { id = missing[name], name = name }
  end

  local function edge(from_name, from, to, label, dashed)
    local e = { from = from.id, to = to.id, label = label, dashed = dashed,
      ltail = from.ltail, lhead = to.lhead }
    if from_name == to.name then  -- a loop: no clipping, and no say in ranks
      e.ltail, e.lhead, e.loop = nil, nil, true
    end
    g.edges[#g.edges + 1] = e
  end

  for _, name in ipairs(order) do
    local st = states[name]
    local id = ids[name]
    local from = { id = id }
    if is_container(st) then
      add_container(g, items, name, id, st)
      from = { id = "j_" .. id, ltail = id }
    else
      local lines = detail_lines(st)
      table.insert(lines, 1, name)
      items[#items + 1] = { kind = KINDS[st.Type] or "state", id = id,
        lines = lines, name = name }
    end
    if str(st.Next) then edge(name, from, target(st.Next)) end
    if st.End == true or st.Type == "Succeed" then
      edge(name, from, { id = end_id })
    end
    for _, c in ipairs(list(st.Choices)) do
      if type(c) == "table" and str(c.Next) then
        edge(name, from, target(c.Next), shorten(rule_text(c), MAX_EDGE_LABEL))
      end
    end
    if str(st.Default) then edge(name, from, target(st.Default), "Default") end
    for _, c in ipairs(list(st.Catch)) do
      if type(c) == "table" and str(c.Next) then
        edge(name, from, target(c.Next), shorten(error_list(c.ErrorEquals), MAX_EDGE_LABEL), true)
      end
    end
  end
  for _, name in ipairs(missing_order) do
    items[#items + 1] = { kind = "missing", id = missing[name],
      lines = { name, "(missing)" } }
  end
  local start = str(scope.StartAt)
  return start and target(start) or nil
end

-- A Map or Parallel state: a cluster holding a header node (the state's
-- type and details; the cluster carries the name), the inner states and a
-- join node where the iterations or branches end and the state's own
-- transitions leave.
function add_container(g, items, name, id, st)
  local cluster = { kind = "cluster", id = id, label = name, items = {},
    name = name }
  items[#items + 1] = cluster
  cluster.items[1] = { kind = KINDS[st.Type], id = id, lines = detail_lines(st),
    name = name }
  local join = "j_" .. id
  -- The header's edge to a scope's StartAt goes before the scope's own.
  local function enter(items, scope)
    local e = { from = id }
    g.edges[#g.edges + 1] = e
    local entry = add_scope(g, items, scope, join)
    e.to, e.lhead = entry and entry.id or join, entry and entry.lhead
  end
  if st.Type == "Map" then
    local proc = st.ItemProcessor
    if type(proc) ~= "table" then proc = st.Iterator end
    if type(proc) == "table" then enter(cluster.items, proc) end
  else
    for i, branch in ipairs(list(st.Branches)) do
      if type(branch) == "table" then
        local sub = { kind = "cluster", id = "b" .. i .. "_" .. id,
          label = "Branch " .. i, items = {}, branch = true }
        cluster.items[#cluster.items + 1] = sub
        enter(sub.items, branch)
      end
    end
  end
  cluster.items[#cluster.items + 1] = { kind = "join", id = join }
end

local function build(definition)
  local g = { used = {}, edges = {}, items = {} }
  g.used.n_start, g.used.n_end = true, true
  g.items[1] = { kind = "start", id = "n_start", lines = { "Start" } }
  local entry = add_scope(g, g.items, definition, "n_end")
  if entry then g.edges[#g.edges + 1] = { from = "n_start", to = entry.id, lhead = entry.lhead } end
  for _, e in ipairs(g.edges) do
    if e.to == "n_end" then
      g.items[#g.items + 1] = { kind = "end", id = "n_end", lines = { "End" } }
      break
    end
  end
  return g
end

-- }======

-- {====== the history: what happened to each state

local function history_events(h)
  if type(h) == "string" then h = require("orchestra").json.decode(h) end
  if type(h) == "userdata" then h = h:history() end  -- an execution
  if type(h) ~= "table" then
    error("graph: opts.history must be a history table, JSON text or an execution", 3)
  end
  if h.events ~= nil then h = h.events end
  if type(h) ~= "table" then error("graph: the history's events must be a list", 3) end
  return h
end

local function entered_details(ev)
  return type(ev.stateEnteredEventDetails) == "table" and ev.stateEnteredEventDetails
end

local function exited_details(ev)
  return type(ev.stateExitedEventDetails) == "table" and ev.stateExitedEventDetails
end

-- Events that mean a state's work failed (its Retry or Catch may still act).
local function is_failure(t)
  if t:match("^Execution") or t:match("^MapIteration") then return false end
  return t:match("Failed$") ~= nil or t:match("TimedOut$") ~= nil
end

-- Events that mean a state's work (a retry of it) succeeded.
local function is_success(t)
  return t == "TaskSucceeded" or t == "LambdaFunctionSucceeded"
    or t == "ActivitySucceeded"
end

-- name -> status ("succeeded", "failed", "caught", "running", "cancelled")
-- from the events of an execution; `catches(name)` says whether the
-- definition gives that state a Catch.
local function statuses(events, catches)
  local by_id = {}       -- event id -> event
  local visits = {}      -- every StateEntered, in order: {name=, kind=, open=, failed=, outcome=}
  local visit_of = {}    -- entered event id -> visit
  local ending           -- the execution's final event type, if any
  for _, ev in ipairs(events) do
    if type(ev) == "table" and ev.id ~= nil then by_id[ev.id] = ev end
  end

  -- Walk previousEventId links back to the visit an event belongs to.
  local function owner(ev, want_name)
    local seen = 0
    local cur = ev
    while type(cur) == "table" and seen < 10000 do
      if cur ~= ev and entered_details(cur) then
        local v = visit_of[cur.id]
        if v and v.open and (not want_name or v.name == want_name) then return v end
        return nil
      end
      if cur ~= ev and exited_details(cur) then return nil end  -- another state's
      if cur.previousEventId == nil then return nil end
      cur = by_id[cur.previousEventId]
      seen = seen + 1
    end
    return nil
  end

  local function latest_open(pred)
    for i = #visits, 1, -1 do
      local v = visits[i]
      if v.open and pred(v) then return v end
    end
    return nil
  end

  for _, ev in ipairs(events) do
    local t = type(ev) == "table" and str(ev.type)
    if t then
      local entered, exited = entered_details(ev), exited_details(ev)
      if entered and t:match("StateEntered$") and str(entered.name) then
        local v = { name = entered.name, kind = t:match("^(.-)StateEntered$"), open = true }
        visits[#visits + 1] = v
        if ev.id ~= nil then visit_of[ev.id] = v end
      elseif exited and t:match("StateExited$") and str(exited.name) then
        local name = exited.name
        local v = owner(ev, name)
        if not v then  -- no links: the oldest open visit of that name
          for _, w in ipairs(visits) do
            if w.open and w.name == name then v = w break end
          end
        end
        if v then
          v.open = false
          local output = str(exited.output) or ""
          if v.failed or (not v.succeeded and catches(name)
              and output:match('"Error"%s*:')) then
            v.outcome = "caught"
          else
            v.outcome = "succeeded"
          end
        end
      elseif t == "ExecutionSucceeded" or t == "ExecutionFailed"
          or t == "ExecutionTimedOut" or t == "ExecutionAborted" then
        ending = t
      elseif is_failure(t) or is_success(t) then
        local kind = t:match("^(.-)StateFailed$")
        local v
        if kind then  -- MapStateFailed, ParallelStateFailed: the state itself
          v = latest_open(function(w) return w.kind == kind and not w.failed end)
        else
          v = owner(ev) or latest_open(function() return true end)
        end
        if v then
          if is_success(t) then
            v.failed, v.succeeded = false, true
          else
            v.failed, v.succeeded = true, false
          end
        end
      end
    end
  end

  -- Visits still open: failed if their own work failed; when the
  -- execution failed or timed out and no open visit failed itself, those
  -- active then failed; the rest were cancelled (or still run).
  local blamed = false
  for _, v in ipairs(visits) do
    if v.open and v.failed then blamed = true end
  end
  local result = {}
  for _, v in ipairs(visits) do
    local s = v.outcome
    if v.open then
      if v.failed then
        s = "failed"
      elseif ending == nil then
        s = "running"
      elseif (ending == "ExecutionFailed" or ending == "ExecutionTimedOut") and not blamed then
        s = "failed"
      else
        s = "cancelled"
      end
    end
    local old = result[v.name]
    if not old or STATUS_RANK[s] < STATUS_RANK[old] then result[v.name] = s end
  end
  return result
end

--- What an execution's history says about each state.
-- @param history `{events = {...}}` (GetExecutionHistory's shape, decoded),
--   the events list itself, its JSON text, or an execution
-- @tparam[opt] table definition the machine's definition (lets a caught
--   error be recognised by its output when the history has no failure event)
-- @treturn table state name -> "succeeded", "failed", "caught", "running"
--   or "cancelled"; states never entered are absent
function M.statuses(history, definition)
  local events = history_events(history)
  local has_catch = {}
  local function scan(scope)
    if type(scope) ~= "table" or type(scope.States) ~= "table" then return end
    for name, st in pairs(scope.States) do
      if type(st) == "table" then
        if type(st.Catch) == "table" and st.Catch[1] ~= nil then has_catch[name] = true end
        scan(st.ItemProcessor)
        scan(st.Iterator)
        for _, b in ipairs(list(st.Branches)) do scan(b) end
      end
    end
  end
  scan(definition)
  return statuses(events, function(name) return has_catch[name] end)
end

-- }======

-- {====== DOT

local function dot_string(s)
  s = s:gsub("[\\\"]", "\\%0"):gsub("\r\n", "\n"):gsub("[\r\n]", "\\n")
  return '"' .. s:gsub("%c", " ") .. '"'
end

local function dot_label(lines)
  local parts = {}
  for i, l in ipairs(lines) do parts[i] = dot_string(l):sub(2, -2) end
  return '"' .. table.concat(parts, "\\n") .. '"'
end

local DOT_NODE = {
  start = { shape = "circle", style = "filled", fillcolor = "#424242", fontcolor = "white" },
  ["end"] = { shape = "circle", style = "filled", fillcolor = "#424242", fontcolor = "white" },
  task = { shape = "box" },
  pass = { shape = "ellipse" },
  choice = { shape = "diamond" },
  wait = { shape = "hexagon" },
  succeed = { shape = "doublecircle", color = "#2e7d32" },
  fail = { shape = "doubleoctagon", color = "#c62828" },
  map = { shape = "box3d" },
  parallel = { shape = "parallelogram" },
  join = { shape = "point", width = "0.12" },
  missing = { shape = "box", style = "dashed", color = "#9e9e9e" },
  state = { shape = "box", style = "dashed" },
}
local DOT_ATTRS = { "label", "shape", "style", "color", "fillcolor", "fontcolor",
  "penwidth", "width" }

local function dot_attrs(a)
  local parts = {}
  for _, k in ipairs(DOT_ATTRS) do
    local v = a[k]
    if v ~= nil then
      if k ~= "label" and not v:match("^[%w.]+$") then v = '"' .. v .. '"' end
      parts[#parts + 1] = k .. "=" .. v
    end
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local LEGEND_ORDER = { "succeeded", "failed", "caught", "running", "cancelled" }

local function legend(out, comment)
  out[#out + 1] = comment .. " legend: states coloured by the execution history "
    .. "(as the Step Functions console's graph inspector does):"
  for _, s in ipairs(LEGEND_ORDER) do
    local c = M.COLOURS[s]
    out[#out + 1] = string.format("%s   %-6s %s (fill %s, border %s): %s", comment,
      c.colour, s, c.fill, c.border, c.what)
  end
  out[#out + 1] = comment .. "   default: not visited. A state visited more than once shows the first of"
  out[#out + 1] = comment .. "   failed, in progress, caught, succeeded, cancelled that any visit had."
end

local function render_dot(g, definition, status_of)
  local out = { "// orchestra graph: render with `dot -Tsvg`" }
  if status_of then legend(out, "//") end
  out[#out + 1] = "digraph orchestra {"
  out[#out + 1] = "  compound=true;"
  if str(definition.Comment) then
    out[#out + 1] = "  label=" .. dot_string(definition.Comment) .. ";"
    out[#out + 1] = "  labelloc=t;"
  end
  out[#out + 1] = '  graph [fontname="Helvetica", fontsize=12];'
  out[#out + 1] = '  node [fontname="Helvetica", fontsize=11];'
  out[#out + 1] = '  edge [fontname="Helvetica", fontsize=10];'

  local function emit(items, indent)
    for _, it in ipairs(items) do
      if it.kind == "cluster" then
        out[#out + 1] = indent .. "subgraph cluster_" .. it.id .. " {"
        out[#out + 1] = indent .. "  label=" .. dot_string(it.label) .. ";"
        local s = it.name and status_of and status_of[it.name]
        if it.branch then
          out[#out + 1] = indent .. '  style=dashed; color="#9e9e9e";'
        elseif s then
          out[#out + 1] = indent .. '  style=rounded; color="' .. M.COLOURS[s].border
            .. '"; penwidth=2;'
        else
          out[#out + 1] = indent .. '  style=rounded; color="#616161";'
        end
        emit(it.items, indent .. "  ")
        out[#out + 1] = indent .. "}"
      else
        local a = {}
        for k, v in pairs(DOT_NODE[it.kind]) do a[k] = v end
        a.label = it.lines and dot_label(it.lines) or '""'
        local s = it.name and status_of and status_of[it.name]
        if s then
          local c = M.COLOURS[s]
          a.style = a.style and (a.style .. ",filled") or "filled"
          a.fillcolor = c.fill
          a.color = a.color or c.border
          a.penwidth = "2"
        end
        out[#out + 1] = indent .. it.id .. " " .. dot_attrs(a) .. ";"
      end
    end
  end
  emit(g.items, "  ")

  for _, e in ipairs(g.edges) do
    local a = {}
    if e.label then a[#a + 1] = "label=" .. dot_string(e.label) end
    if e.dashed then a[#a + 1] = "style=dashed" end
    if e.ltail then a[#a + 1] = "ltail=cluster_" .. e.ltail end
    if e.lhead then a[#a + 1] = "lhead=cluster_" .. e.lhead end
    if e.loop then a[#a + 1] = "constraint=false" end
    out[#out + 1] = "  " .. e.from .. " -> " .. e.to
      .. (a[1] and (" [" .. table.concat(a, ", ") .. "]") or "") .. ";"
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

-- }======

-- {====== Mermaid

-- Mermaid reads entity codes (#quot; #35;) in quoted text; HTML labels
-- would read < > & as markup.
local MERMAID_ENTITIES = {
  ['"'] = "#quot;", ["#"] = "#35;", ["<"] = "#lt;", [">"] = "#gt;",
  ["&"] = "#amp;", ["`"] = "#96;", ["|"] = "#124;",
}

local function mermaid_text(s)
  s = s:gsub('[#"<>&`|]', MERMAID_ENTITIES)
  return (s:gsub("\r\n", "\n"):gsub("[\r\n]", "<br/>"):gsub("%c", " "))
end

local function mermaid_label(lines)
  local parts = {}
  for i, l in ipairs(lines) do parts[i] = mermaid_text(l) end
  return '"' .. table.concat(parts, "<br/>") .. '"'
end

local MERMAID_SHAPE = {  -- opening and closing brackets
  start = { "((", "))" }, ["end"] = { "((", "))" },
  task = { "[", "]" }, pass = { "([", "])" }, choice = { "{", "}" },
  wait = { "{{", "}}" }, succeed = { "(((", ")))" }, fail = { "(((", ")))" },
  map = { "[[", "]]" }, parallel = { "[/", "/]" }, join = { "((", "))" },
  missing = { "[", "]" }, state = { "[", "]" },
}

local MERMAID_STYLE = {
  succeed = "stroke:#2e7d32,stroke-width:3px",
  fail = "stroke:#c62828,stroke-width:3px",
  missing = "stroke:#9e9e9e,stroke-dasharray:4 3",
  state = "stroke-dasharray:4 3",
}

local function render_mermaid(g, definition, status_of)
  local out = { "%% orchestra graph (Mermaid flowchart)" }
  if str(definition.Comment) then
    out[#out + 1] = "%% " .. definition.Comment:gsub("%c", " ")
  end
  if status_of then legend(out, "%%") end
  out[#out + 1] = "flowchart TD"
  local styles, by_status, terminals = {}, {}, {}

  local function emit(items, indent)
    for _, it in ipairs(items) do
      local s = it.name and status_of and status_of[it.name]
      if it.kind == "cluster" then
        local cid = it.branch and it.id or ("c_" .. it.id)
        out[#out + 1] = indent .. "subgraph " .. cid .. " [" .. mermaid_label({ it.label }) .. "]"
        emit(it.items, indent .. "  ")
        out[#out + 1] = indent .. "end"
        if it.branch then
          styles[#styles + 1] = "style " .. cid .. " stroke-dasharray:4 3"
        elseif s then
          styles[#styles + 1] = "style " .. cid .. " stroke:" .. M.COLOURS[s].border
            .. ",stroke-width:2px"
        end
      else
        local b = MERMAID_SHAPE[it.kind]
        local label = it.kind == "join" and '" "' or mermaid_label(it.lines)
        out[#out + 1] = indent .. it.id .. b[1] .. label .. b[2]
        if MERMAID_STYLE[it.kind] then
          styles[#styles + 1] = "style " .. it.id .. " " .. MERMAID_STYLE[it.kind]
        end
        if it.kind == "start" or it.kind == "end" then terminals[#terminals + 1] = it.id end
        if s then
          by_status[s] = by_status[s] or {}
          table.insert(by_status[s], it.id)
        end
      end
    end
  end
  emit(g.items, "  ")

  for _, e in ipairs(g.edges) do
    local arrow = e.dashed and " -.->" or " -->"
    local label = e.label and ("|" .. mermaid_label({ e.label }) .. "|") or ""
    out[#out + 1] = "  " .. e.from .. arrow .. label .. " " .. e.to
  end
  out[#out + 1] = "  classDef terminal fill:#424242,stroke:#424242,color:#ffffff"
  if terminals[1] then
    out[#out + 1] = "  class " .. table.concat(terminals, ",") .. " terminal"
  end
  for _, s in ipairs(STATUS_ORDER) do
    if by_status[s] then
      local c = M.COLOURS[s]
      out[#out + 1] = "  classDef " .. s .. " fill:" .. c.fill .. ",stroke:" .. c.border
        .. ",stroke-width:2px"
      out[#out + 1] = "  class " .. table.concat(by_status[s], ",") .. " " .. s
    end
  end
  for _, line in ipairs(styles) do out[#out + 1] = "  " .. line end
  return table.concat(out, "\n") .. "\n"
end

-- }======

--- Draw a definition.
-- @tparam table definition as decoded by `orchestra.json.decode`
-- @tparam[opt] table opts `format` ("dot", the default, or "mermaid");
--   `history`: colour the states by an execution's history, given as
--   `{events = {...}}` (GetExecutionHistory's shape), its JSON text or an
--   execution (see `COLOURS`)
-- @treturn string the graph's text
function M.render(definition, opts)
  opts = opts or {}
  if type(definition) ~= "table" or type(definition.States) ~= "table" then
    error("graph: the definition must be a table with States", 2)
  end
  local format = opts.format or "dot"
  if format ~= "dot" and format ~= "mermaid" then
    error("graph: format must be \"dot\" or \"mermaid\", not '" .. tostring(format) .. "'", 2)
  end
  local status_of = opts.history ~= nil and M.statuses(opts.history, definition) or nil
  local g = build(definition)
  if format == "mermaid" then return render_mermaid(g, definition, status_of) end
  return render_dot(g, definition, status_of)
end

return M
