-- search_load.lua: the seed-peer baseline's wrk script (../shared/bench/seed-peer/search_load.lua)
-- with p95 added to what it prints, so imsrc and the baseline are loaded and measured by the same
-- script. POSTs one image (QUERY_IMAGE) as multipart/form-data field "file" to the path in wrk.path.
local f = io.open(os.getenv("QUERY_IMAGE"), "rb"); local img = f:read("*a"); f:close()
local b = "----imsrcbench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
wrk.body = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" .. img .. "\r\n--" .. b .. "--\r\n"
done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors=%d rps=%.1f p50_ms=%.2f p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
