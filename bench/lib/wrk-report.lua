-- wrk prints human units (1.23ms); this prints one JSON line with exact integers instead.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"bytes":%d,"errors":%d,"non2xx":%d,"p50us":%d,"p99us":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
