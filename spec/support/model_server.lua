-- Start and drive spec/support/model_server.mjs from a spec: the server
-- runs on 127.0.0.1 (a free port) until stop(); the control API is reached
-- with the curl command line (the specs need no HTTP client in Lua). A
-- server whose spec process dies without stop() exits within a second
-- (--exit-with-pid).
local json = require("orchestra").json

local S = {}
S.__index = S

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Whether node, curl and the server's npm packages are there (`make
-- node-deps`, which `make test` runs).
function S.available(root)
  root = root or os.getenv("PWD") or "."
  local f = io.open(root .. "/spec/support/node_modules/@smithy/signature-v4/package.json")
  if f then f:close() end
  local r = os.execute("command -v node >/dev/null && command -v curl >/dev/null")
  return f ~= nil and (r == true or r == 0)
end

--- Start a server; root is the repository's root (default: the current
-- directory, where busted runs).
function S.start(root)
  root = root or os.getenv("PWD") or "."
  local out = os.tmpname()
  -- the server must not inherit a sanitizer runtime preloaded for the specs
  -- $PPID: this process (popen's shell is its child)
  local p = io.popen("env -u LD_PRELOAD node " .. sh_quote(root .. "/spec/support/model_server.mjs")
    .. " --exit-with-pid $PPID > " .. sh_quote(out) .. " 2>&1 & echo $!")
  local pid = p:read("*l")
  p:close()
  local self = setmetatable({ pid = pid, out = out }, S)
  for _ = 1, 200 do
    local text = read_file(out) or ""
    local url = text:match("listening (http://[%d%.:]+)")
    if url then
      self.url = url
      return self
    end
    os.execute("sleep 0.05")
  end
  self:stop()
  error("the model server did not start (node and spec/support/node_modules are needed: `make node-deps`): "
    .. (read_file(out) or ""))
end

function S:stop()
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  os.remove(self.out)
end

--- POST body (a Lua value) to a control endpoint; returns the decoded answer.
function S:control(path, body)
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(body == nil and "{}" or json.encode(body))
  f:close()
  local p = io.popen("env -u LD_PRELOAD curl -s -X POST -H 'Content-Type: application/json' --data-binary @"
    .. sh_quote(tmp) .. " " .. sh_quote(self.url .. path))
  local answer = p:read("*a")
  p:close()
  os.remove(tmp)
  return json.decode(answer)
end

function S:reset(config) return self:control("/_control/reset", config or {}) end
function S:config(config) return self:control("/_control/config", config) end
function S:enqueue(steps) return self:control("/_control/enqueue", steps) end

--- The requests the server received, oldest first.
function S:requests()
  local p = io.popen("env -u LD_PRELOAD curl -s " .. sh_quote(self.url .. "/_control/requests"))
  local answer = p:read("*a")
  p:close()
  return json.decode(answer)
end

return S
