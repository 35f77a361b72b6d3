-- Regenerates spec/fixtures/jsonata-known.lua from the current failures:
--   LUA_PATH='lua/?.lua;spec/support/?.lua;;' LUA_CPATH='build/lua5.4/?.so;;' \
--     lua5.4 tools/jsonata-known.lua
-- Reasons per group are kept from the existing file.
local suite = require "jsonata_suite"
local old = dofile("spec/fixtures/jsonata-known.lua")
local ids, groups = {}, {}
for _, e in ipairs(suite.cases()) do
  local ok = suite.run(e)
  if ok == false then
    ids[#ids + 1] = e.id
    groups[e.group] = old.groups[e.group] or "(the reason it fails: to be written)"
  end
end
local out = { "-- JSONata test-suite cases that do not pass yet (see tools/jsonata-known.lua).",
  "-- groups: the reason per group; cases: the failing case ids.", "return {", "  groups = {" }
local names = {}
for g in pairs(groups) do names[#names + 1] = g end
table.sort(names)
for _, g in ipairs(names) do out[#out + 1] = string.format("    [%q] = %q,", g, groups[g]) end
out[#out + 1] = "  },"
out[#out + 1] = "  cases = {"
for _, id in ipairs(ids) do out[#out + 1] = string.format("    [%q] = true,", id) end
out[#out + 1] = "  },"
out[#out + 1] = "}"
local f = assert(io.open("spec/fixtures/jsonata-known.lua", "w"))
f:write(table.concat(out, "\n"), "\n")
f:close()
print(#ids .. " known failures")
