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

dofile(os.getenv("BENCH_D") .. "/report.lua")

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local mode = os.getenv("BENCH_MODE") or "post"
local requests = {}
local next_index = 0

local function form(id, secret)
  return "grant_type=client_credentials&client_id=" .. id .. "&client_secret=" .. secret
end

-- A secret of the right shape and length that no client has.
local function wrong(secret)
  local last = secret:sub(-1)
  return secret:sub(1, -2) .. (last == "A" and "B" or "A")
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_CLIENTS"), "r"))
  local clients = {}
  for line in file:lines() do
    local id, secret, basic = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if id then
      clients[#clients + 1] = { id = id, secret = secret, basic = basic }
    end
  end
  file:close()
  assert(#clients > 0, "no clients in " .. os.getenv("BENCH_CLIENTS"))

  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local path = "/api/v1/oauth/token"
  local form_type = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  -- Threads start at different points of the list (cold: disjoint shares of it).
  for i = 1, #clients do
    local c
    if mode == "cold" then
      local k = (i - 1) * nthreads + tid + 1
      if k > #clients then break end
      c = clients[k]
    else
      c = clients[((i - 1) + tid * math.floor(#clients / nthreads)) % #clients + 1]
    end
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
  if mode == "cold" and next_index > #requests then
    -- Out of fresh clients: the file was too short for the run. Stop this thread rather
    -- than send a request that would be warm.
    wrk.thread:stop()
  end
  return requests[(next_index - 1) % #requests + 1]
end
