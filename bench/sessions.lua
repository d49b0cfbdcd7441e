-- wrk script for the load benchmark: every request carries the next of many signed-in
-- session cookies (one per line in $BENCH_COOKIES) and asks for $BENCH_PATH as a browser
-- asks for a page. Anything but 200 counts as an error (a 3xx here would be a redirect
-- to sign-in: a lost session).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for line in io.lines(os.getenv("BENCH_COOKIES")) do
    if #line > 0 then
      cookies[#cookies + 1] = line
    end
  end
  path = os.getenv("BENCH_PATH")
  cookie_name = os.getenv("BENCH_COOKIE_NAME") or "glance_share_session"
  counter = math.random(#cookies)
  statuses = {}
  responses = 0
  bad = 0
end

function request()
  counter = counter % #cookies + 1
  return wrk.format("GET", path, {
    ["Cookie"] = cookie_name .. "=" .. cookies[counter],
    ["Accept"] = "text/html,application/xhtml+xml",
  })
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total, errors = 0, 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("responses")
    errors = errors + thread:get("bad")
    local s = thread:get("statuses")
    for k, v in pairs(s) do
      by_status[k] = (by_status[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(by_status) do
    parts[#parts + 1] = k .. ":" .. v
  end
  io.write(string.format("BENCH responses=%d non200=%d statuses=%s\n", total, errors, table.concat(parts, ",")))
  io.write(string.format("BENCH p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
