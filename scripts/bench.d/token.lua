-- Token requests for scripts/bench, rotating through the clients of a file.
--
-- Environment:
--   BENCH_CLIENTS  a file of `id<TAB>secret<TAB>base64(id:secret)` lines
--   BENCH_MODE     post   client_secret_post (credentials in the form body)
--                  basic  client_secret_basic (Authorization: Basic)
--                  wrong  client_secret_post with a wrong secret (the attack flood)
--                  wrong_spread  the same, each request from an address of its own
--                         (X-Forwarded-For, for a service that trusts it): a distributed
--                         attacker no per-address limit stops
--                  cold   like post, but each thread takes its own share of the clients
--                         and never comes back to one: every request is a first request
--   BENCH_THREADS  wrk's thread count (to split the clients in cold mode)
--   BENCH_D        this directory (for report.lua)
--
-- Requests are built once per thread, so the load generator spends nothing per request
-- beyond picking the next one.
--
-- Cold mode never reuses a client: a thread that has sent its whole share stops (wrk then
-- idles until the run's end). The summary line then says how many threads ran out
-- (`ran_out=`) and, when all did, `active_secs=`: the seconds from the first request to
-- the last thread's running out, over which scripts/bench computes the rate instead.

dofile(os.getenv("BENCH_D") .. "/report.lua")

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

local mode = os.getenv("BENCH_MODE") or "post"
local requests = {}
local next_index = 0

-- Wall-clock seconds (LuaJIT has no sub-second clock): called once or twice per thread.
local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("*l"))
  p:close()
  return t
end

local function form(id, secret)
  return "grant_type=client_credentials&client_id=" .. id .. "&client_secret=" .. secret
end

-- A secret of the right shape and length that no client has.
local function wrong(secret)
  local last = secret:sub(-1)
  return secret:sub(1, -2) .. (last == "A" and "B" or "A")
end

local path = "/api/v1/oauth/token"
local form_type = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local file = assert(io.open(os.getenv("BENCH_CLIENTS"), "r"))
  local clients = {}
  local line_no = 0
  for line in file:lines() do
    line_no = line_no + 1
    -- Cold: only this thread's share (every nthreads-th line), parsed straight into requests.
    if mode ~= "cold" or (line_no - 1) % nthreads == tid then
      local id, secret, basic = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
      if id then
        if mode == "cold" then
          requests[#requests + 1] = wrk.format("POST", path, form_type, form(id, secret))
        else
          clients[#clients + 1] = { id = id, secret = secret, basic = basic }
        end
      end
    end
  end
  file:close()
  if mode == "cold" then
    assert(#requests > 0, "no clients for this thread in " .. os.getenv("BENCH_CLIENTS"))
    return
  end
  assert(#clients > 0, "no clients in " .. os.getenv("BENCH_CLIENTS"))

  -- Threads start at different points of the list.
  for i = 1, #clients do
    local c = clients[((i - 1) + tid * math.floor(#clients / nthreads)) % #clients + 1]
    local request
    if mode == "basic" then
      request = wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Authorization"] = "Basic " .. c.basic,
      }, "grant_type=client_credentials")
    elseif mode == "wrong" then
      request = wrk.format("POST", path, form_type, form(c.id, wrong(c.secret)))
    elseif mode == "wrong_spread" then
      local n = tid * #clients + i
      request = wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Forwarded-For"] = string.format("10.%d.%d.%d", 100 + tid, math.floor(n / 250) % 250, n % 250 + 1),
      }, form(c.id, wrong(c.secret)))
    else
      request = wrk.format("POST", path, form_type, form(c.id, c.secret))
    end
    requests[#requests + 1] = request
  end
end

function request()
  next_index = next_index + 1
  if mode == "cold" then
    if next_index == 1 then
      started_at = now()
    end
    if next_index > #requests then
      -- Out of fresh clients. Stop this thread rather than send a request that would be
      -- warm; wrk still wants a request from this call: one that authenticates nobody.
      if not ran_out_at then
        ran_out_at = now()
        wrk.thread:stop()
      end
      return wrk.format("GET", "/health/live")
    end
  end
  return requests[(next_index - 1) % #requests + 1]
end

-- (In wrk's main script state, where done() runs: the threads' clocks, in cold mode.)
function report_fields()
  if mode ~= "cold" then
    return ""
  end
  local first, last, out = nil, nil, 0
  for _, thread in ipairs(threads) do
    local s, e = thread:get("started_at"), thread:get("ran_out_at")
    if s and (not first or s < first) then first = s end
    if e then
      out = out + 1
      if not last or e > last then last = e end
    end
  end
  if out > 0 and out == #threads and first then
    return string.format(" ran_out=%d active_secs=%.3f", out, last - first)
  end
  return string.format(" ran_out=%d", out)
end
