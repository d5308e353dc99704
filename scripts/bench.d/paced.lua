-- paths.lua at a bounded rate: each connection waits BENCH_DELAY_MS before each request, so
-- C connections send at most C / (delay + latency) requests a second (scripts/bench-scale's
-- latency at a given load, rather than under all the load the machine can take).
--
-- Environment: as paths.lua, and BENCH_DELAY_MS.

dofile(os.getenv("BENCH_D") .. "/paths.lua")

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

function delay()
  return pause
end
