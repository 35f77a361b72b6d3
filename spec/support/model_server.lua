-- Start and script spec/support/model_server.mjs from a spec: one server
-- per call of start(), on 127.0.0.1 with a free port, stopped by stop()
-- (or within a second of the spec's process exiting: --exit-with-pid). Control goes
-- through curl, the responses through orchestra.json.
local orchestra = require "orchestra"
local H = require "spec.helper"

local Server = {}
Server.__index = Server

local M = {}

--- Whether node and the server's npm packages are there (`make test` runs
-- npm ci first).
function M.available()
  local f = io.open(H.ROOT .. "/spec/support/node_modules/@smithy/signature-v4/package.json")
  if f then f:close() end
  return f ~= nil and H.have("node") and H.have("curl")
end

--- Start a server; returns it (fields url, pid) or raises.
function M.start()
  -- popen's shell prints its pid and becomes node ($PPID: this process)
  local cmd = "echo $$; exec env -u LD_PRELOAD node " ..
    H.shell_quote(H.ROOT .. "/spec/support/model_server.mjs") .. " --exit-with-pid $PPID"
  local pipe = assert(io.popen(cmd, "r"))
  local pid = pipe:read("*l")
  local line = pipe:read("*l") or ""
  local url = line:match("^listening (http://127%.0%.0%.1:%d+)$")
  if not url then
    pipe:close()
    error("the model server did not start (node and spec/support/node_modules " ..
          "are needed: `make node-deps`): " .. line)
  end
  return setmetatable({ url = url, pid = tonumber(pid), pipe = pipe }, Server)
end

local function post(self, path, value)
  local body = orchestra.json.encode(value == nil and orchestra.object() or value)
  local tmp = os.tmpname()
  H.write(tmp, body)
  local status, out, err = H.run("curl -s -f -X POST -H 'Content-Type: application/json' --data-binary @" ..
    tmp .. " " .. H.shell_quote(self.url .. path), true)
  os.remove(tmp)
  assert(status == 0, "model server control " .. path .. " failed: " .. err .. out)
  return orchestra.json.decode(out)
end

--- Clear the script and the request log; config (optional) is what the
-- server demands (api_key, anthropic_key, aws = {access_key_id, ...}).
function Server:reset(config)
  return post(self, "/_control/reset", config)
end

--- Append a step or a list of steps to the script.
function Server:enqueue(steps)
  return post(self, "/_control/enqueue", steps)
end

--- The requests received so far, oldest first.
function Server:requests()
  local status, out, err = H.run("curl -s -f " .. H.shell_quote(self.url .. "/_control/requests"), true)
  assert(status == 0, "model server requests failed: " .. err)
  return orchestra.json.decode(out)
end

function Server:stop()
  if self.pipe then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pipe:close()
    self.pipe = nil
  end
end

return M
