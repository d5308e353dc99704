-- Token requests for scripts/bench, rotating through the clients (or the assertions) of a
-- file.
--
-- Environment:
--   BENCH_CLIENTS  a file of `id<TAB>secret<TAB>base64(id:secret)` lines (secret modes)
--   BENCH_ASSERTIONS  a file of one JWS a line (assertion modes)
--   BENCH_MODE     post   client_secret_post (credentials in the form body)
--                  basic  client_secret_basic (Authorization: Basic)
--                  wrong  client_secret_post with a wrong secret (the attack flood)
--                  wrong_spread  the same, each request from an address of its own
--                         (X-Forwarded-For, for a service that trusts it): a distributed
--                         attacker no per-address limit stops
--                  cold   like post, but each thread takes its own share of the clients
--                         and never comes back to one: every request is a first request
--                  assertion  private_key_jwt (client_assertion): each thread takes its
--                         own share of the assertions and sends each once, as in cold mode
--                         (the service accepts an assertion once)
--                  platform  a workload's platform token as client_assertion, rotating
--                         through the file (the service accepts one until it expires)
--   BENCH_THREADS  wrk's thread count (to split the clients or assertions in one-shot modes)
--   BENCH_D        this directory (for report.lua)
--
-- Requests are built once per thread, so the load generator spends nothing per request
-- beyond picking the next one.
--
-- One-shot modes (cold, assertion) never reuse a line of their file: a thread that has sent
-- its whole share stops (wrk then idles until the run's end). The summary line then says
-- what was used once (`one_shot=clients` or `assertions`), how many threads ran out
-- (`ran_out=`) and, when all did, `active_secs=`: the seconds from the first request to the
-- last thread's running out, over which scripts/bench computes the rate instead.

dofile(os.getenv("BENCH_D") .. "/report.lua")

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

local mode = os.getenv("BENCH_MODE") or "post"
-- Modes that send each line of their file once, and modes whose lines are assertions.
local one_shot = mode == "cold" or mode == "assertion"
local by_assertion = mode == "assertion" or mode == "platform"
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

-- RFC 7523 §2.2: the JWS (base64url and dots) needs no form encoding.
local function assertion_form(jws)
  return "grant_type=client_credentials"
    .. "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    .. "&client_assertion=" .. jws
end

local path = "/api/v1/oauth/token"
local form_type = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local source = by_assertion and "BENCH_ASSERTIONS" or "BENCH_CLIENTS"
  local file = assert(io.open(os.getenv(source), "r"))
  -- The lines this thread sends: one-shot, only its share (every nthreads-th line).
  local lines = {}
  local line_no = 0
  for line in file:lines() do
    line_no = line_no + 1
    if line ~= "" and (not one_shot or (line_no - 1) % nthreads == tid) then
      lines[#lines + 1] = line
    end
  end
  file:close()
  assert(#lines > 0, "nothing for this thread in " .. os.getenv(source))

  for i = 1, #lines do
    -- Rotating modes: threads start at different points of the list.
    local line = one_shot and lines[i] or lines[((i - 1) + tid * math.floor(#lines / nthreads)) % #lines + 1]
    local request
    if by_assertion then
      request = wrk.format("POST", path, form_type, assertion_form(line))
    else
      local id, secret, basic = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
      assert(id, "not a client line in " .. os.getenv(source))
      if mode == "basic" then
        request = wrk.format("POST", path, {
          ["Content-Type"] = "application/x-www-form-urlencoded",
          ["Authorization"] = "Basic " .. basic,
        }, "grant_type=client_credentials")
      elseif mode == "wrong" then
        request = wrk.format("POST", path, form_type, form(id, wrong(secret)))
      elseif mode == "wrong_spread" then
        local n = tid * #lines + i
        request = wrk.format("POST", path, {
          ["Content-Type"] = "application/x-www-form-urlencoded",
          ["X-Forwarded-For"] = string.format("10.%d.%d.%d", 100 + tid, math.floor(n / 250) % 250, n % 250 + 1),
        }, form(id, wrong(secret)))
      else -- post, cold
        request = wrk.format("POST", path, form_type, form(id, secret))
      end
    end
    requests[#requests + 1] = request
  end
end

function request()
  next_index = next_index + 1
  if one_shot then
    if next_index == 1 then
      started_at = now()
    end
    if next_index > #requests then
      -- Out of fresh clients (or assertions). Stop this thread rather than send a request
      -- that would be warm (or a replay); wrk still wants a request from this call: one
      -- that authenticates nobody.
      if not ran_out_at then
        ran_out_at = now()
        wrk.thread:stop()
      end
      return wrk.format("GET", "/health/live")
    end
  end
  return requests[(next_index - 1) % #requests + 1]
end

-- (In wrk's main script state, where done() runs: the threads' clocks, in one-shot modes.)
function report_fields()
  if not one_shot then
    return ""
  end
  local used = mode == "cold" and "clients" or "assertions"
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
    return string.format(" one_shot=%s ran_out=%d active_secs=%.3f", used, out, last - first)
  end
  return string.format(" one_shot=%s ran_out=%d", used, out)
end
