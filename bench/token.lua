-- wrk script for the docker-v2 token endpoint. Counts response statuses per thread and
-- prints machine-readable "KW key=value" lines at the end (read by bench/bench.py).
--
--   wrk ... URL -s bench/token.lua -- get  "Basic BASE64"    GET with Basic credentials
--   wrk ... URL -s bench/token.lua -- post "FORM_BODY"       POST a form (refresh_token grant)
--   wrk ... URL -s bench/token.lua -- post-any FILE          POST a form picked at random from
--                                                           FILE's lines on every request
--   wrk ... URL -s bench/token.lua -- get-once FILE N        GET with the Authorization header
--                                                           of FILE's next line: thread k of
--                                                           the N (wrk -tN) takes lines k,
--                                                           k+N, ..., each once (a line used
--                                                           again counts in reused)

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         table.insert(lines, line)
      end
   end
   if #lines == 0 then
      error("no lines in " .. path)
   end
   return lines
end

local lines, next_line, thread_count = nil, 0, 1
reused = 0

local function post_any()
   return wrk.format(nil, nil, nil, lines[math.random(#lines)])
end

local function get_once()
   local index = id + 1 + next_line * thread_count
   next_line = next_line + 1
   if index > #lines then
      reused = reused + 1
      index = (index - 1) % #lines + 1
   end
   wrk.headers["Authorization"] = lines[index]
   return wrk.format()
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
   elseif mode == "post-any" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
      lines = read_lines(value)
      math.randomseed(os.time() + id)
      request = post_any
   elseif mode == "get-once" then
      wrk.method = "GET"
      lines = read_lines(value)
      thread_count = tonumber(args[3]) or error("get-once needs the thread count")
      request = get_once
   else
      error("usage: -- get AUTH | -- post FORM | -- post-any FILE | -- get-once FILE N")
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
   local total_ok, total_other, total_reused, sample = 0, 0, 0, ""
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_other = total_other + thread:get("other")
      total_reused = total_reused + thread:get("reused")
      if sample == "" then
         sample = thread:get("first_error")
      end
   end
   local e = summary.errors
   io.write(string.format("KW requests=%d\n", summary.requests))
   io.write(string.format("KW duration_us=%d\n", summary.duration))
   io.write(string.format("KW status_200=%d\n", total_ok))
   io.write(string.format("KW status_other=%d\n", total_other))
   io.write(string.format("KW reused=%d\n", total_reused))
   io.write(string.format("KW socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
   for _, p in ipairs({ 50, 90, 99 }) do
      io.write(string.format("KW latency_p%d_us=%d\n", p, latency:percentile(p)))
   end
   io.write(string.format("KW latency_max_us=%d\n", latency.max))
   io.write(string.format("KW first_error=%s\n", string.gsub(sample, "\n", " ")))
end
