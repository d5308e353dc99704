-- GET requests with a bearer token, rotating through the request paths of a file
-- (scripts/bench-scale: listing pages spread over a large table).
--
-- Environment:
--   BENCH_TOKEN    the access token
--   BENCH_PATHS    a file of request paths (with their query strings), one a line
--   BENCH_THREADS  wrk's thread count (each thread starts at its own point of the list)
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

local requests = {}
local next_index = 0

function init(args)
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
  local file = assert(io.open(os.getenv("BENCH_PATHS"), "r"))
  local paths = {}
  for line in file:lines() do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. os.getenv("BENCH_PATHS"))
  local offset = tid * math.floor(#paths / nthreads)
  for i = 1, #paths do
    requests[i] = wrk.format("GET", paths[(i - 1 + offset) % #paths + 1], headers)
  end
end

function request()
  next_index = next_index + 1
  return requests[(next_index - 1) % #requests + 1]
end
