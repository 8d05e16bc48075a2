-- wrk script for the docker-v2 token endpoint. Counts response statuses per thread and
-- prints machine-readable "KW key=value" lines at the end (read by bench/bench.py).
--
--   wrk ... URL -s bench/token.lua -- get  "Basic BASE64"    GET with Basic credentials
--   wrk ... URL -s bench/token.lua -- post "FORM_BODY"       POST a form (refresh_token grant)

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local mode, value = args[1], args[2]
   if mode == "get" then
      wrk.method = "GET"
      wrk.headers["Authorization"] = value
   elseif mode == "post" then
      wrk.method = "POST"
      wrk.body = value
      wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   else
      error("usage: -- get AUTHORIZATION | -- post FORM_BODY")
   end
end

-- Per-thread globals, read back in done() through thread:get().
ok = 0
other = 0
first_error = ""

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
      if first_error == "" then
         first_error = status .. " " .. string.sub(body or "", 1, 200)
      end
   end
end

function done(summary, latency, requests)
   local total_ok, total_other, sample = 0, 0, ""
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_other = total_other + thread:get("other")
      if sample == "" then
         sample = thread:get("first_error")
      end
   end
   local e = summary.errors
   io.write(string.format("KW requests=%d\n", summary.requests))
   io.write(string.format("KW duration_us=%d\n", summary.duration))
   io.write(string.format("KW status_200=%d\n", total_ok))
   io.write(string.format("KW status_other=%d\n", total_other))
   io.write(string.format("KW socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
   for _, p in ipairs({ 50, 90, 99 }) do
      io.write(string.format("KW latency_p%d_us=%d\n", p, latency:percentile(p)))
   end
   io.write(string.format("KW latency_max_us=%d\n", latency.max))
   io.write(string.format("KW first_error=%s\n", string.gsub(sample, "\n", " ")))
end
