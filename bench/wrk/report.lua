-- bench/run.sh: prints one machine-readable line at the end of a wrk run (latencies in µs).
-- Loaded by every wrk run of the harness, alone (static request) or from mixed.lua.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.status, e.connect + e.read + e.write + e.timeout))
end
