-- GET with a bearer token, the same token on every request (scripts/bench).
--
-- Environment: BENCH_TOKEN (the access token), BENCH_D (this directory).

dofile(os.getenv("BENCH_D") .. "/report.lua")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
