--- The command-line tool's internals: `bin/orchestra` calls `main(arg)`.
-- @module orchestra.cli

local orchestra = require "orchestra"

local M = {}

-- Exit statuses (sysexits.h names where one fits).
M.EXIT_OK = 0
M.EXIT_FAILED = 1      -- the execution failed
M.EXIT_INVALID = 2     -- the definition is invalid
M.EXIT_USAGE = 64      -- bad command line, or a command not available yet

local USAGE = [[
usage: orchestra [--help] [--version] <command> [<args>]

Run Amazon States Language state machines, agents and cost models.

commands:
  run DEF.json [--input IN.json | --input-json TEXT] [--tasks TASKS.lua]
               [--clock real|virtual] [--history OUT.json]
                          run a state machine, print its output
  validate DEF.json       check a definition, print pointer + message per error
  graph DEF.json [--format dot|mermaid]
                          draw a state machine
  cost ...                what-if costs and the cost of a recorded history

options:
  -h, --help              show this help
  -V, --version           show the version

exit status: 0 success, 1 execution failed, 2 invalid definition,
             64 usage error or command not available yet
]]

-- The sub-commands and the work that brings each one. Until a command's
-- work lands it says so and exits 64: it never prints made-up output.
local PENDING = {
  run = "the state machine executor",
  validate = "definition loading and validation",
  graph = "state machine graphs",
  cost = "the cost model",
}

local function err(fmt, ...)
  io.stderr:write("orchestra: ", string.format(fmt, ...), "\n")
end

--- Run the tool with the argument list `args` (as `arg`); returns the exit
-- status.
-- @tparam table args
-- @treturn integer exit status
function M.main(args)
  args = args or {}
  local first = args[1]
  if first == nil then
    io.stderr:write(USAGE)
    return M.EXIT_USAGE
  end
  if first == "-h" or first == "--help" or first == "help" then
    io.stdout:write(USAGE)
    return M.EXIT_OK
  end
  if first == "-V" or first == "--version" then
    io.stdout:write("orchestra ", orchestra.VERSION, " (",
      orchestra.built_for, ")\n")
    return M.EXIT_OK
  end
  if first:sub(1, 1) == "-" then
    err("unknown option '%s' (see orchestra --help)", first)
    return M.EXIT_USAGE
  end
  local pending = PENDING[first]
  if pending then
    err("'%s' is not available yet: it arrives with %s", first, pending)
    return M.EXIT_USAGE
  end
  err("unknown command '%s' (see orchestra --help)", first)
  return M.EXIT_USAGE
end

return M
