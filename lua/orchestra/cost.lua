--- The cost model: what a workflow, an agent or a hybrid costs per
-- execution and per month, measured from a history or estimated from a
-- scenario. The arithmetic is the C core's (core/include/orchestra/cost.h);
-- this module adds the friendly API, tables, CSV, JSON and SVG charts.
--
--   local cost = require("orchestra").cost
--   print(cost.scenario { executions = 10000, agent = { model = "claude-3-5-sonnet",
--     steps = 5, input_tokens = 2000, output_tokens = 500 } })
--
-- @module orchestra.cost

local core = require "orchestra.core"

local M = {}

local unpack = table.unpack or unpack

-- {====== the catalog

local function this_dir()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then return "." end
  return src:sub(2):match("^(.*)/[^/]*$") or "."
end

local function read_file(path)
  local f, e = io.open(path, "rb")
  if not f then return nil, e end
  local text = f:read("*a")
  f:close()
  return text
end

--- Where the shipped catalog is: $ORCHESTRA_PRICES, else prices.json next
-- to this file (installed by LuaRocks), else data/prices.json of the
-- checkout this file belongs to.
function M.catalog_path()
  local env = os.getenv("ORCHESTRA_PRICES")
  if env and env ~= "" then return env end
  local dir = this_dir()
  for _, p in ipairs({ dir .. "/prices.json", dir .. "/../../data/prices.json" }) do
    local f = io.open(p, "rb")
    if f then f:close() return p end
  end
  return nil
end

local default_catalog

local function shipped()
  local c = core.cost_catalog()
  local path = M.catalog_path()
  if not path then
    error({ code = "InvalidCatalog", message = "the price catalog prices.json "
      .. "was not found (set ORCHESTRA_PRICES to its path)" })
  end
  local text, e = read_file(path)
  if not text then
    error({ code = "InvalidCatalog", message = "cannot read " .. tostring(e) })
  end
  local ok, err = pcall(c.load, c, text)
  if not ok then
    if type(err) == "table" then err.message = path .. ": " .. err.message end
    error(err, 0)
  end
  return c
end

--- The catalog the other functions use. With an argument, merge prices
-- into it first: a table in the shape of data/prices.json (a model adds or
-- replaces that model, others stay) or JSON text. Errors are
-- `{code = "InvalidCatalog", message, pointer}`.
-- @param[opt] prices table or JSON text
-- @return the catalog (userdata: `:model(name)`, `:json()`, ...)
function M.catalog(prices)
  default_catalog = default_catalog or shipped()
  if prices ~= nil then default_catalog:load(prices) end
  return default_catalog
end

--- Merge a price file (JSON, the shape of data/prices.json) into the
-- catalog (`--prices FILE`).
function M.load_prices(path)
  local text, e = read_file(path)
  if not text then
    error({ code = "InvalidCatalog", message = "cannot read " .. tostring(e) })
  end
  local ok, err = pcall(M.catalog, text)
  if not ok then
    if type(err) == "table" then err.message = path .. ": " .. err.message end
    error(err, 0)
  end
  return default_catalog
end

--- Back to the shipped catalog, dropping what catalog{} and load_prices
-- merged.
function M.reset_catalog()
  default_catalog = nil
end

local function cat(opts)
  return (opts and opts.catalog) or M.catalog()
end

-- }======

-- {====== formatting

local function commas(int_text)
  local sign, digits = int_text:match("^(-?)(%d+)$")
  if not digits then return int_text end
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. digits
end

--- Dollars for people: cents from $1 up ("$1,234.50"), all significant
-- digits below ("$0.00025", "$0.0000020417").
function M.usd(x)
  if x ~= x then return "n/a" end
  local neg = x < 0
  if neg then x = -x end
  local s
  if x >= 1 then
    s = string.format("%.2f", x)
    local int, frac = s:match("^(%d+)%.(%d+)$")
    s = commas(int) .. "." .. frac
  elseif x == 0 then
    s = "0.00"
  else
    -- five significant digits, trailing zeros dropped, at least cents
    local decimals = math.max(2, 4 - math.floor(math.log10(x)))
    if decimals > 15 then
      s = string.format("%.4e", x)
    else
      s = string.format("%." .. decimals .. "f", x):gsub("0+$", "")
      if #s:match("%.(%d*)$") < 2 then s = string.format("%.2f", x) end
    end
  end
  return (neg and "-$" or "$") .. s
end

--- Counts for people: "1,000,000", "2.5".
function M.count(x)
  if x == math.floor(x) and math.abs(x) < 1e15 then
    return commas(string.format("%d", x))
  end
  return (string.format("%.6g", x))
end

--- Aligned text table: `headers` and `rows` are lists of strings; columns
-- listed in `right` (a set of indices) are right-aligned.
function M.format_table(headers, rows, right)
  right = right or {}
  local width = {}
  for i, h in ipairs(headers) do width[i] = #h end
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do
      if #c > (width[i] or 0) then width[i] = #c end
    end
  end
  local function line(cells)
    local out = {}
    for i = 1, #headers do
      local c = cells[i] or ""
      local pad = string.rep(" ", width[i] - #c)
      out[i] = right[i] and (pad .. c) or (c .. pad)
    end
    return (table.concat(out, "  "):gsub("%s+$", ""))
  end
  local rule = {}
  for i = 1, #headers do rule[i] = string.rep("-", width[i]) end
  local lines = { line(headers), table.concat(rule, "  ") }
  for _, r in ipairs(rows) do lines[#lines + 1] = line(r) end
  return table.concat(lines, "\n") .. "\n"
end

local function csv_cell(v)
  local s = tostring(v)
  if type(v) == "number" then s = string.format("%.15g", v) end
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function to_csv(headers, rows)
  local out = { table.concat(headers, ",") }
  for _, r in ipairs(rows) do
    local cells = {}
    for i = 1, #headers do cells[i] = csv_cell(r[i] == nil and "" or r[i]) end
    out[#out + 1] = table.concat(cells, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

local function encode(v)
  return core.json_encode(v, { indent = true }) .. "\n"
end

local function line_rows(lines)
  local rows = {}
  for _, l in ipairs(lines) do
    rows[#rows + 1] = { l.group, l.item, M.count(l.units), l.unit,
      l.unit_usd and M.usd(l.unit_usd) or "", M.usd(l.usd), l.note or "" }
  end
  return rows
end

local LINE_HEADERS = { "group", "item", "units", "unit", "unit price", "USD", "note" }
local LINE_RIGHT = { [3] = true, [5] = true, [6] = true }

local function subtotal_text(sub)
  local names = {}
  for k in pairs(sub) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = k .. " " .. M.usd(sub[k]) end
  return table.concat(parts, ", ")
end

local function assumptions_text(list)
  local out = {}
  for _, a in ipairs(list or {}) do out[#out + 1] = "  - " .. a .. "\n" end
  return #out > 0 and ("assumptions:\n" .. table.concat(out)) or ""
end

-- }======

-- {====== breakdowns (measured) and scenarios (what-if)

local Breakdown = {}
Breakdown.__index = Breakdown

--- Lines as an aligned table, then subtotals, the total and assumptions.
function Breakdown:table()
  return M.format_table(LINE_HEADERS, line_rows(self.lines), LINE_RIGHT)
    .. "subtotals: " .. subtotal_text(self.subtotals) .. "\n"
    .. "total: " .. M.usd(self.total) .. "\n"
    .. assumptions_text(self.assumptions)
end

function Breakdown:csv()
  local rows = {}
  for _, l in ipairs(self.lines) do
    rows[#rows + 1] = { l.group, l.item, l.units, l.unit, l.unit_usd or "", l.usd, l.note or "" }
  end
  rows[#rows + 1] = { "total", "", "", "", "", self.total, "" }
  return to_csv({ "group", "item", "units", "unit", "unit_usd", "usd", "note" }, rows)
end

function Breakdown:json()
  local t = {}
  for k, v in pairs(self) do t[k] = v end
  return encode(t)
end
Breakdown.__tostring = Breakdown.table

local function histories_of(x, opts)
  local list = {}
  local function add(h)
    if type(h) == "string" then h = core.json_decode(h) end
    list[#list + 1] = h
  end
  if type(x) == "userdata" and x.history then
    add(x:history())
    if opts.children ~= false and x.children then
      for _, child in ipairs(x:children()) do
        if child.history then add(child.history) end
      end
    end
  elseif type(x) == "table" or type(x) == "string" then
    add(x)
  else
    error("cost.of: expected an execution, a history table or its JSON text, got "
      .. type(x), 3)
  end
  return list
end

--- The measured cost of an execution (its history, and the histories of
-- its distributed Map children unless `children = false`), a history
-- table `{events = {...}}` or its JSON text. Billed transitions are the
-- states entered plus retries (see cost.h for what does not count).
-- @param x execution, history table or JSON text
-- @tparam[opt] table opts `type` ("STANDARD" or "EXPRESS"), `memory_mb`
--   (Express, default 64), `region`, `free_tier` (default false), `batch`,
--   `children`, `catalog`
-- @return a breakdown: `lines`, `subtotals`, `total`, `counts`,
--   `assumptions`; `:table()`, `:csv()`, `:json()`
function M.of(x, opts)
  opts = opts or {}
  local o = {}
  for _, k in ipairs({ "type", "memory_mb", "region", "free_tier", "batch" }) do
    o[k] = opts[k]
  end
  -- an engine that meters (orchestra.engine{meter = true}) counted as the
  -- events were appended, whatever its history keeps
  if type(x) == "userdata" and x.metered and opts.children ~= false then
    return setmetatable(x:meter_breakdown(cat(opts), next(o) and o or nil), Breakdown)
  end
  local meter = core.cost_meter()
  for _, h in ipairs(histories_of(x, opts)) do meter:add_history(h) end
  local b = meter:breakdown(cat(opts), next(o) and o or nil)
  meter:close()
  return setmetatable(b, Breakdown)
end

local Scenario = {}
Scenario.__index = Scenario

function Scenario:table()
  local name = self.name ~= "" and self.name or "scenario"
  return ("%s: per execution %s, monthly at %s executions %s\n"):format(name,
      M.usd(self.per_execution.total), M.count(self.executions), M.usd(self.monthly.total))
    .. "\nper execution:\n"
    .. M.format_table(LINE_HEADERS, line_rows(self.per_execution.lines), LINE_RIGHT)
    .. "\nmonthly (" .. M.count(self.executions) .. " executions):\n"
    .. M.format_table(LINE_HEADERS, line_rows(self.monthly.lines), LINE_RIGHT)
    .. "subtotals: " .. subtotal_text(self.monthly.subtotals) .. "\n"
    .. "total: " .. M.usd(self.monthly.total) .. "\n"
    .. assumptions_text(self.assumptions)
end

function Scenario:csv()
  local rows = {}
  for _, part in ipairs({ "per_execution", "monthly" }) do
    for _, l in ipairs(self[part].lines) do
      rows[#rows + 1] = { part, l.group, l.item, l.units, l.unit, l.unit_usd or "", l.usd }
    end
    rows[#rows + 1] = { part, "total", "", "", "", "", self[part].total }
  end
  return to_csv({ "scope", "group", "item", "units", "unit", "unit_usd", "usd" }, rows)
end

function Scenario:json()
  local t = {}
  for k, v in pairs(self) do t[k] = v end
  return encode(t)
end
Scenario.__tostring = Scenario.table

--- A what-if scenario: per execution and per month (see cost.h for the
-- fields: `name`, `executions`, `workflow = {type, transitions,
-- duration_ms, memory_mb, region, free_tier, runs}`, `agent = {model,
-- steps, input_tokens, output_tokens, context_growth, cache_hit_rate,
-- cache_write_rate, batch, invocations, tool_calls_per_step,
-- tool_call_usd}`). Bad fields raise `{code = "InvalidScenario", message,
-- pointer}`.
function M.scenario(t, opts)
  local s = cat(opts):scenario(t)
  s.input = t
  return setmetatable(s, Scenario)
end

--- The monthly total of scenario `t` at `executions` a month (its own
-- volume when omitted).
function M.monthly(t, executions, opts)
  return cat(opts):monthly(t, executions)
end

-- }======

-- {====== comparisons, sweeps and charts

local Comparison = {}
Comparison.__index = Comparison

local DEFAULT_VOLUMES = { 1000, 10000, 100000, 1000000 }

function Comparison:table()
  local headers = { "executions/month" }
  for _, name in ipairs(self.options) do headers[#headers + 1] = name end
  local rows, right = {}, {}
  for i = 1, #headers do right[i] = true end
  for i, v in ipairs(self.volumes) do
    local r = { M.count(v) }
    for k = 1, #self.options do r[#r + 1] = M.usd(self.monthly[k][i]) end
    rows[#rows + 1] = r
  end
  local out = { M.format_table(headers, rows, right) }
  if #self.break_even == 0 then
    if #self.options > 1 then out[#out + 1] = "break-even: none between 1 and 1e12 executions a month\n" end
  else
    for _, b in ipairs(self.break_even) do
      out[#out + 1] = ("break-even: %s and %s at %s executions/month (%s); %s is cheaper below, %s above\n")
        :format(b.a, b.b, M.count(b.executions), M.usd(b.usd), b.cheaper_below, b.cheaper_above)
    end
  end
  out[#out + 1] = assumptions_text(self.assumptions)
  return table.concat(out)
end

function Comparison:csv()
  local headers = { "executions" }
  for _, name in ipairs(self.options) do headers[#headers + 1] = name end
  local rows = {}
  for i, v in ipairs(self.volumes) do
    local r = { v }
    for k = 1, #self.options do r[#r + 1] = self.monthly[k][i] end
    rows[#rows + 1] = r
  end
  return to_csv(headers, rows)
end

function Comparison:json()
  local t = {}
  for k, v in pairs(self) do
    if k ~= "scenarios" and k ~= "catalog" then t[k] = v end
  end
  return encode(t)
end
Comparison.__tostring = Comparison.table

local function xml(s)
  return (tostring(s):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function short_count(v)
  if v >= 1e9 then return string.format("%gG", v / 1e9) end
  if v >= 1e6 then return string.format("%gM", v / 1e6) end
  if v >= 1e3 then return string.format("%gk", v / 1e3) end
  return string.format("%g", v)
end

local function short_usd(v)
  if v >= 1 then return "$" .. commas(string.format("%d", v)) end
  return "$" .. string.format("%g", v)
end

-- Line styles that read without colour: a dash pattern and a marker shape.
local STYLES = {
  { color = "#1f77b4", dash = "", marker = "circle" },
  { color = "#d62728", dash = "8 4", marker = "square" },
  { color = "#2ca02c", dash = "2 3", marker = "triangle" },
  { color = "#9467bd", dash = "10 3 2 3", marker = "diamond" },
  { color = "#8c564b", dash = "4 2", marker = "cross" },
}

local function marker(shape, x, y, color)
  if shape == "circle" then
    return ('<circle cx="%.1f" cy="%.1f" r="4" fill="white" stroke="%s" stroke-width="2"/>'):format(x, y, color)
  elseif shape == "square" then
    return ('<rect x="%.1f" y="%.1f" width="8" height="8" fill="white" stroke="%s" stroke-width="2"/>')
      :format(x - 4, y - 4, color)
  elseif shape == "triangle" then
    return ('<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="white" stroke="%s" stroke-width="2"/>')
      :format(x, y - 5, x - 5, y + 4, x + 5, y + 4, color)
  elseif shape == "diamond" then
    return ('<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="white" stroke="%s" stroke-width="2"/>')
      :format(x, y - 5, x + 5, y, x, y + 5, x - 5, y, color)
  end
  return ('<path d="M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f" stroke="%s" stroke-width="2"/>')
    :format(x - 4, y - 4, x + 4, y + 4, x - 4, y + 4, x + 4, y - 4, color)
end

--- The comparison as an SVG chart: monthly cost against executions per
-- month on log scales, one line per option (colour, dash pattern and
-- marker shape, so it reads in grey), break-even points marked and
-- labelled, a legend and labelled axes. Costs of $0 (inside the free
-- tier) cannot sit on a log scale: those points are left out and a note
-- says so.
-- @tparam[opt] table opts `title`, `width` (default 760), `height` (460),
--   `points` (samples per line, default 60)
function Comparison:svg(opts)
  opts = opts or {}
  local W, H = opts.width or 760, opts.height or 460
  local ml, mr, mt, mb = 86, 230, 48, 64
  local pw, ph = W - ml - mr, H - mt - mb
  local vmin, vmax = math.huge, 0
  for _, v in ipairs(self.volumes) do
    if v > 0 then vmin = math.min(vmin, v) vmax = math.max(vmax, v) end
  end
  if vmax == 0 then vmin, vmax = 1, 1e6 end
  local x0, x1 = math.floor(math.log10(vmin)), math.ceil(math.log10(vmax))
  if x1 == x0 then x1 = x0 + 1 end
  -- dense samples between the decades, so curves show the free tier's knee
  local n = opts.points or 60
  local volumes = {}
  for i = 0, n do volumes[#volumes + 1] = math.floor(10 ^ (x0 + (x1 - x0) * i / n) + 0.5) end
  local dense = self.catalog and self.scenarios
    and self.catalog:compare(self.scenarios, volumes) or self
  volumes = dense.volumes
  local cmin, cmax = math.huge, 0
  local zero = false
  for k = 1, #dense.options do
    for i = 1, #volumes do
      local c = dense.monthly[k][i]
      if c > 0 then cmin = math.min(cmin, c) cmax = math.max(cmax, c) else zero = true end
    end
  end
  if cmax == 0 then cmin, cmax = 0.01, 1 end
  local y0, y1 = math.floor(math.log10(cmin)), math.ceil(math.log10(cmax))
  if y1 == y0 then y1 = y0 + 1 end
  local function X(v) return ml + (math.log10(v) - x0) / (x1 - x0) * pw end
  local function Y(c) return mt + ph - (math.log10(c) - y0) / (y1 - y0) * ph end

  local out = {}
  local function add(s) out[#out + 1] = s end
  add(('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
    .. 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">'):format(W, H, W, H))
  add(('<rect width="%d" height="%d" fill="white"/>'):format(W, H))
  add(('<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>'):format(ml,
    xml(opts.title or "Monthly cost by volume")))
  -- grid and ticks
  for d = x0, x1 do
    local x = X(10 ^ d)
    add(('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#dddddd"/>'):format(x, mt, x, mt + ph))
    add(('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'):format(x, mt + ph + 18, short_count(10 ^ d)))
  end
  for d = y0, y1 do
    local y = Y(10 ^ d)
    add(('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>'):format(ml, y, ml + pw, y))
    add(('<text x="%d" y="%.1f" text-anchor="end">%s</text>'):format(ml - 6, y + 4, short_usd(10 ^ d)))
  end
  add(('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>'):format(ml, mt, pw, ph))
  add(('<text x="%.1f" y="%d" text-anchor="middle">executions per month (log scale)</text>')
    :format(ml + pw / 2, H - 18))
  add(('<text transform="translate(20 %.1f) rotate(-90)" text-anchor="middle">monthly cost, USD (log scale)</text>')
    :format(mt + ph / 2))
  -- one line per option
  for k, name in ipairs(dense.options) do
    local st = STYLES[(k - 1) % #STYLES + 1]
    local pts, segs = {}, {}
    for i, v in ipairs(volumes) do
      local c = dense.monthly[k][i]
      if c > 0 and v > 0 then
        pts[#pts + 1] = ("%.1f,%.1f"):format(X(v), Y(c))
      elseif #pts > 0 then
        segs[#segs + 1] = pts
        pts = {}
      end
    end
    if #pts > 0 then segs[#segs + 1] = pts end
    add(('<g class="option" data-name="%s">'):format(xml(name)))
    for _, s in ipairs(segs) do
      add(('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>'):format(
        table.concat(s, " "), st.color, st.dash ~= "" and (' stroke-dasharray="' .. st.dash .. '"') or ""))
    end
    -- markers at the volumes the comparison was asked for
    for i, v in ipairs(self.volumes) do
      local c = self.monthly[k][i]
      if c > 0 and v > 0 then add(marker(st.marker, X(v), Y(c), st.color)) end
    end
    add("</g>")
    -- legend entry
    local ly = mt + 10 + (k - 1) * 22
    local lx = ml + pw + 16
    add(('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'):format(lx, ly, lx + 34, ly,
      st.color, st.dash ~= "" and (' stroke-dasharray="' .. st.dash .. '"') or ""))
    add(marker(st.marker, lx + 17, ly, st.color))
    add(('<text x="%d" y="%d">%s</text>'):format(lx + 42, ly + 4, xml(name)))
  end
  -- break-even points
  local nb = 0
  for _, b in ipairs(self.break_even or {}) do
    if b.usd > 0 and b.executions >= 10 ^ x0 and b.executions <= 10 ^ x1 then
      nb = nb + 1
      local x, y = X(b.executions), Y(b.usd)
      add(('<g class="break-even"><circle cx="%.1f" cy="%.1f" r="7" fill="none" stroke="black" stroke-width="2"/>'
        .. '<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%d" stroke="black" stroke-dasharray="3 3"/>'
        .. '<text x="%.1f" y="%.1f" font-size="11">break-even %s/mo</text></g>')
        :format(x, y, x, y + 7, x, mt + ph, x + 9, y - 9, short_count(b.executions)))
    end
  end
  local ly = mt + 10 + #dense.options * 22 + 8
  local lx = ml + pw + 16
  if nb > 0 then
    add(('<circle cx="%d" cy="%d" r="7" fill="none" stroke="black" stroke-width="2"/>'):format(lx + 17, ly))
    add(('<text x="%d" y="%d">break-even point</text>'):format(lx + 42, ly + 4))
    ly = ly + 22
  end
  if zero then
    add(('<text x="%d" y="%d" font-size="10">$0 months (free tier)</text>'):format(lx, ly + 4))
    add(('<text x="%d" y="%d" font-size="10">are not drawn on a log scale</text>'):format(lx, ly + 17))
  end
  add("</svg>")
  return table.concat(out, "\n") .. "\n"
end

--- Compare options: monthly totals at each volume and the volumes where
-- two options cost the same.
-- @tparam table scenarios a list of scenarios (each with a `name`)
-- @tparam[opt] table opts `volumes` (default 1k, 10k, 100k, 1M), `catalog`
-- @return a comparison: `options`, `volumes`, `monthly[k][i]`,
--   `break_even`, `assumptions`; `:table()`, `:csv()`, `:json()`, `:svg()`
function M.compare(scenarios, opts)
  opts = opts or {}
  local c = cat(opts)
  local volumes = opts.volumes or DEFAULT_VOLUMES
  local r = c:compare(scenarios, volumes)
  r.scenarios, r.catalog = scenarios, c
  return setmetatable(r, Comparison)
end

--- One scenario over several volumes (a comparison of one option).
function M.sweep(t, volumes, opts)
  opts = opts or {}
  return M.compare({ t }, { volumes = volumes or DEFAULT_VOLUMES, catalog = opts.catalog })
end

local Sensitivity = {}
Sensitivity.__index = Sensitivity

function Sensitivity:table()
  local rows = {}
  for _, r in ipairs(self.inputs) do
    rows[#rows + 1] = { r.input, M.count(r.value), M.usd(r.low), M.usd(r.high), M.usd(r.swing) }
  end
  local pct = string.format("%g %%", self.delta * 100)
  return ("monthly total %s; each input moved by -/+%s, largest swing first\n"):format(M.usd(self.base), pct)
    .. M.format_table({ "input", "value", "low", "high", "swing" }, rows,
      { [2] = true, [3] = true, [4] = true, [5] = true })
end

function Sensitivity:csv()
  local rows = {}
  for _, r in ipairs(self.inputs) do rows[#rows + 1] = { r.input, r.value, r.low, r.high, r.swing } end
  return to_csv({ "input", "value", "low", "high", "swing" }, rows)
end

function Sensitivity:json()
  local t = {}
  for k, v in pairs(self) do t[k] = v end
  return encode(t)
end
Sensitivity.__tostring = Sensitivity.table

--- Which input moves the monthly total most: each input -/+ `delta`
-- (default 0.2), ranked by swing. Price inputs are multipliers (value 1).
function M.sensitivity(t, delta, opts)
  return setmetatable(cat(opts):sensitivity(t, delta or 0.2), Sensitivity)
end

-- }======

-- {====== simulation

-- Park-Miller minimal standard generator: exact in doubles, so every Lua
-- (5.1's float-only numbers included) draws the same sequence.
local function rng_new(seed)
  local state = math.floor(seed or 1) % 2147483647
  if state <= 0 then state = state + 2147483646 end
  return function()
    state = (state * 16807) % 2147483647
    return state / 2147483647
  end
end

local function stderr_is_tty()
  local ok, _, code = os.execute("test -t 2")
  if type(ok) == "number" then return ok == 0 end
  return ok == true and (code == nil or code == 0)
end

-- The Choice states of a definition (nested branches included): name ->
-- the states it may go to, in rule order, then its Default.
local function choice_states(def, out)
  out = out or {}
  for name, st in pairs(def.States or {}) do
    if type(st) == "table" then
      if st.Type == "Choice" then
        local list, seen = {}, {}
        local function add(n)
          if type(n) == "string" and not seen[n] then seen[n] = true list[#list + 1] = n end
        end
        for _, rule in ipairs(st.Choices or {}) do
          if type(rule) == "table" then add(rule.Next) end
        end
        add(st.Default)
        out[name] = list
      end
      for _, b in ipairs(type(st.Branches) == "table" and st.Branches or {}) do
        if type(b) == "table" then choice_states(b, out) end
      end
      local proc = st.ItemProcessor or st.Iterator
      if type(proc) == "table" then choice_states(proc, out) end
    end
  end
  return out
end

-- Check opts.choices against the definition and return the engine's
-- choice_hook (or nil). A probability table must name only the state's
-- Next/Default states and sum to 1 (within 1e-9).
local function choice_hook(choices, definition, random)
  if choices == nil then return nil end
  if type(choices) ~= "table" then
    error("cost.simulate: choices must be a table: Choice state name -> {Next = probability, ...} "
      .. "or function(random, input, state)", 3)
  end
  local def = definition
  if type(def) == "string" then def = core.json_decode(def) end
  local states = choice_states(def)
  local plans = {}
  for state, c in pairs(choices) do
    local nexts = states[state]
    if not nexts then
      error(("cost.simulate: choices: '%s' is not a Choice state of the definition"):format(tostring(state)), 3)
    end
    if type(c) == "function" then
      plans[state] = c
    elseif type(c) == "table" then
      local allowed = {}
      for _, n in ipairs(nexts) do allowed[n] = true end
      local sum = 0
      for n, p in pairs(c) do
        if not allowed[n] then
          error(("cost.simulate: choices['%s']: '%s' is not a Next or the Default of Choice state '%s' (%s)")
            :format(state, tostring(n), state, table.concat(nexts, ", ")), 3)
        end
        if type(p) ~= "number" or p < 0 or p > 1 then
          error(("cost.simulate: choices['%s']['%s']: a probability must be a number from 0 to 1, not %s")
            :format(state, n, tostring(p)), 3)
        end
        sum = sum + p
      end
      if math.abs(sum - 1) > 1e-9 then
        error(("cost.simulate: choices['%s']: the probabilities sum to %.10g, not 1"):format(state, sum), 3)
      end
      local order = {}
      for _, n in ipairs(nexts) do
        if (c[n] or 0) > 0 then order[#order + 1] = { n, c[n] } end
      end
      plans[state] = order
    else
      error(("cost.simulate: choices['%s'] must be a table of probabilities or a function, not %s")
        :format(state, type(c)), 3)
    end
  end
  return function(state, input)
    local plan = plans[state]
    if plan == nil then return nil end
    if type(plan) == "function" then return plan(random, input, state) end
    local r, acc = random(), 0
    for i, e in ipairs(plan) do
      acc = acc + e[2]
      if r < acc or i == #plan then return e[1] end
    end
  end
end

local Simulation = {}
Simulation.__index = Simulation

function Simulation:table()
  local rows = {}
  for _, k in ipairs({ "transitions", "usd" }) do
    local s = self[k]
    local f = k == "usd" and M.usd or function(x) return string.format("%.4g", x) end
    rows[#rows + 1] = { k == "usd" and "cost per execution" or "billed transitions",
      f(s.mean), f(s.p50), f(s.p95), f(s.p99), f(s.max) }
  end
  for model, s in pairs(self.tokens or {}) do
    rows[#rows + 1] = { model .. " tokens", string.format("%.4g", s.mean), string.format("%.4g", s.p50),
      string.format("%.4g", s.p95), string.format("%.4g", s.p99), string.format("%.4g", s.max) }
  end
  return ("%d simulated executions%s (%s)\n"):format(self.runs,
      self.stopped and (", stopped early: " .. self.stopped) or "", table.concat(self.statuses_text, ", "))
    .. M.format_table({ "per execution", "mean", "p50", "p95", "p99", "max" }, rows,
      { [2] = true, [3] = true, [4] = true, [5] = true, [6] = true })
    .. ("monthly at %s executions: %s (mean x volume)\n"):format(M.count(self.executions),
      M.usd(self.monthly_usd))
    .. assumptions_text(self.assumptions)
end

function Simulation:json()
  local t = {}
  for k, v in pairs(self) do
    if k ~= "statuses_text" then t[k] = v end
  end
  return encode(t)
end

function Simulation:csv()
  local rows = {}
  for _, k in ipairs({ "transitions", "usd" }) do
    local s = self[k]
    rows[#rows + 1] = { k, s.mean, s.p50, s.p95, s.p99, s.min, s.max }
  end
  return to_csv({ "quantity", "mean", "p50", "p95", "p99", "min", "max" }, rows)
end
Simulation.__tostring = Simulation.table

--- Estimate a definition's cost by running it many times on the virtual
-- clock. Choices follow the data, so the host's task handlers decide the
-- paths: `tasks[resource] = function(input, context, random)` returns a
-- result (random() is the simulation's own seeded generator); a resource
-- without a handler returns its input. `failures[resource] = rate` (or
-- `{rate =, error =, cause =}`) fails that fraction of calls, driving
-- Retry and Catch. `agents[resource] = {model =, steps = n or
-- function(random), input_tokens =, output_tokens =, context_growth =}`
-- prices each call of that resource as an agent invocation (its result is
-- the handler's, or the input). `input` is a table, JSON text or
-- `function(random, i)` (to draw Map sizes from a distribution).
-- `choices[state] = {NextA = 0.7, NextB = 0.3}` takes a Choice state's
-- branches with those probabilities instead of evaluating its rules (the
-- Default counts as a branch; names must be the state's Next/Default
-- states and the probabilities sum to 1), or `choices[state] =
-- function(random, input, state)` returns the branch's name (nil: the
-- rules decide).
-- Per execution: billed transitions (states entered + task retries;
-- retries of a whole Map or Parallel are not seen here) and cost, with
-- mean, p50, p95, p99.
-- @tparam table opts `definition` (JSON text or table), `runs` (default
--   1000), `seed`, `tasks`, `failures`, `agents`, `input`, `choices`, `workflow`
--   (`{type = "EXPRESS", duration_ms =, memory_mb =}`, default Standard),
--   `executions` (monthly volume, default 1000), `max_seconds`,
--   `stop = function(partial) -> true` (checked every `check_every`
--   runs, default 1000), `progress` (default: when stderr is a terminal),
--   `catalog`
function M.simulate(opts)
  local orchestra = require "orchestra"
  assert(type(opts) == "table" and opts.definition, "cost.simulate needs {definition = ...}")
  local c = cat(opts)
  local runs = opts.runs or 1000
  local random = rng_new(opts.seed or 1)
  local engine = orchestra.engine { clock = "virtual", history = "none", seed = opts.seed or 1,
    max_history_events = 0, choice_hook = choice_hook(opts.choices, opts.definition, random) }
  local tasks, failures, agents = opts.tasks or {}, opts.failures or {}, opts.agents or {}
  local wf = opts.workflow or {}
  local express = wf.type == "EXPRESS"

  local retries, tokens_run = 0, {}
  local function handler_for(resource)
    local fn = tasks[resource]
    local fail = failures[resource]
    if type(fail) == "number" then fail = { rate = fail } end
    local agent = agents[resource]
    return function(input, ctx)
      if ctx.State and (ctx.State.RetryCount or 0) > 0 then retries = retries + 1 end
      if agent then
        local steps = agent.steps
        if type(steps) == "function" then steps = steps(random) end
        local g = agent.context_growth or 0
        local t = tokens_run[agent.model] or { input = 0, output = 0 }
        t.input = t.input + steps * (agent.input_tokens or 0) + g * steps * (steps - 1) / 2
        t.output = t.output + steps * (agent.output_tokens or 0)
        tokens_run[agent.model] = t
      end
      if fail and random() < fail.rate then
        error({ Error = fail.error or "States.TaskFailed", Cause = fail.cause or "simulated failure" })
      end
      if fn then return fn(input, ctx, random) end
      return input
    end
  end
  local resources = {}
  for r in pairs(tasks) do resources[r] = true end
  for r in pairs(failures) do resources[r] = true end
  for r in pairs(agents) do resources[r] = true end
  for r in pairs(resources) do engine:handler(r, handler_for(r)) end
  engine:default_handler(function(resource, input, ctx) return handler_for(resource)(input, ctx) end)

  local machine = engine:load(opts.definition, { name = "Simulated" })
  local input = opts.input or {}
  local input_fn = type(input) == "function" and input or nil
  local input_json = type(input) == "string" and input or nil

  local transitions, usd, statuses = {}, {}, {}
  local token_counts = {}
  local progress = opts.progress
  if progress == nil then progress = stderr_is_tty() end
  local check_every = opts.check_every or 1000
  local t0 = os.clock()
  local stopped

  local result
  local function summarize()
    local s = setmetatable({ runs = #usd, transitions = core.cost_summarize(transitions),
      usd = core.cost_summarize(usd), statuses = statuses, stopped = stopped,
      executions = opts.executions or 1000 }, Simulation)
    s.tokens = {}
    for model, list in pairs(token_counts) do s.tokens[model] = core.cost_summarize(list) end
    local names = {}
    for k, v in pairs(statuses) do names[#names + 1] = k .. " " .. v end
    table.sort(names)
    s.statuses_text = names
    s.monthly_usd = s.usd.mean * s.executions
    s.assumptions = {
      "transitions per execution = states entered (Map and Parallel inside included) + task retries",
      express and ("Express at " .. (wf.duration_ms or 0) .. " ms, " .. (wf.memory_mb or 64) .. " MB per run")
        or "Standard pricing per execution, without the free tier",
      "monthly = mean cost per execution x volume",
    }
    return s
  end

  local ok, err = pcall(function()
    for i = 1, runs do
      retries = 0
      tokens_run = {}
      local ex
      if input_fn then
        ex = machine:start(input_fn(random, i))
      elseif input_json then
        ex = machine:start_json(input_json)
      else
        ex = machine:start(input)
      end
      local status = ex:wait()
      statuses[status] = (statuses[status] or 0) + 1
      local t = ex.transitions + retries
      ex:close()
      local dollars
      if express then
        dollars = c:express(1, wf.duration_ms or 0, wf.memory_mb or 64)
      else
        dollars = c:standard(t, false, wf.region)
      end
      for model, tk in pairs(tokens_run) do
        dollars = dollars + c:tokens(model, tk)
        local list = token_counts[model] or {}
        list[#list + 1] = tk.input + tk.output
        token_counts[model] = list
      end
      transitions[i], usd[i] = t, dollars
      if i % check_every == 0 then
        if progress then
          io.stderr:write(("\rsimulated %d / %d executions"):format(i, runs))
        end
        if opts.max_seconds and os.clock() - t0 >= opts.max_seconds then
          stopped = "max_seconds"
          break
        end
        if opts.stop and opts.stop(summarize()) then
          stopped = "stop function"
          break
        end
      end
    end
  end)
  if progress then io.stderr:write("\n") end
  if not ok then
    -- the standalone interpreter turns Ctrl-C into an "interrupted!" error:
    -- keep what was simulated
    if tostring(err):find("interrupted", 1, true) and #usd > 0 then
      stopped = "interrupted"
    else
      error(err, 0)
    end
  end
  result = summarize()
  return result
end

-- }======

return M
