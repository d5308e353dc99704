-- Shared by every scenario of scripts/bench: one machine-readable summary line per run.
-- Latencies are wrk's, in microseconds, over every response (timeouts excluded: the runs
-- use a timeout long enough that none should occur, and the count is reported). A script
-- may define report_fields() to append fields of its own to the line.

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local ok = summary.requests - e.status
  io.write(string.format(
    "BENCH requests=%d ok=%d non2xx=%d connect=%d read=%d write=%d timeout=%d secs=%.3f "
      .. "rps=%.1f ok_rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f%s\n",
    summary.requests, ok, e.status, e.connect, e.read, e.write, e.timeout, secs,
    summary.requests / secs, ok / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    report_fields and report_fields() or ""))
end
