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

-- TIMINGS=1: also read each answer's own timings (the handler's stages) and print their p50 and
-- p99 on a line "server ...", to tell a tail inside the handler from one outside it (Jetty, the
-- scheduler, wrk). Off by default: reading the bodies costs wrk CPU on a small machine.
if os.getenv("TIMINGS") == "1" then
  local threads = {}
  setup = function(thread) table.insert(threads, thread) end
  init = function(args) decode_ms, embed_ms, search_ms, total_ms = {}, {}, {}, {} end
  response = function(status, headers, body)
    local d = tonumber(body:match('"decode_ms":([%d.eE+-]+)'))
    local e = tonumber(body:match('"embed_ms":([%d.eE+-]+)'))
    local p = tonumber(body:match('"prototype_ms":([%d.eE+-]+)'))
    local i = tonumber(body:match('"index_ms":([%d.eE+-]+)'))
    local t = tonumber(body:match('"total_ms":([%d.eE+-]+)'))
    if t then
      table.insert(decode_ms, d); table.insert(embed_ms, e)
      table.insert(search_ms, p + i); table.insert(total_ms, t)
    end
  end
  local plain_done = done
  done = function(summary, latency, requests)
    plain_done(summary, latency, requests)
    local all = { decode = {}, embed = {}, search = {}, total = {} }
    for _, thread in ipairs(threads) do
      for _, k in ipairs({ "decode", "embed", "search", "total" }) do
        for _, v in ipairs(thread:get(k .. "_ms")) do table.insert(all[k], v) end
      end
    end
    local function pct(values, p)
      if #values == 0 then return 0 end
      table.sort(values)
      return values[math.max(1, math.ceil(p / 100 * #values))]
    end
    local line = "server"
    for _, k in ipairs({ "decode", "embed", "search", "total" }) do
      line = line .. string.format(" %s_p50=%.2f %s_p99=%.2f", k, pct(all[k], 50), k, pct(all[k], 99))
    end
    io.write(line .. "\n")
  end
end
