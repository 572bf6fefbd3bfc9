-- RSVP posts with a distinct e-mail each, a party of 1 to 3, and the CSRF field the page gave,
-- going round several events (the first with few seats, the others without a limit).
-- Each client address (X-Forwarded-For, trusted from 127.0.0.1 as from a proxy) sends
-- `per_client` posts, below the app's RSVP throttle limit: the throttle counts for real and
-- refuses no one.
-- Arguments (after --): csrf token, run nonce, address block (1-250), posts per client
-- address, then the RSVP paths. Cookie etc. come from -H.
dofile("report.lua")

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  csrf, nonce, block, per_client = args[1], args[2], tonumber(args[3]), tonumber(args[4])
  paths = {}
  for i = 5, #args do table.insert(paths, args[i]) end
  tid = tid or 1
  -- wrk.format replaces wrk.headers (the -H ones) with what it is given: start from them.
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local client = math.floor(counter / per_client)  -- LuaJIT: no // operator
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", block,
    (tid * 64 + math.floor(client / 256)) % 256, client % 256)
  local body = string.format(
    "name=Bench+Person+%d&email=r%s-%d-%d%%40bench.example.org&phone=&guests=%d" ..
    "&comment=&website=&csrf_token=%s", counter, nonce, tid, counter, counter % 3, csrf)
  return wrk.format("POST", paths[counter % #paths + 1], headers, body)
end

-- The answers wrk counts as errors (status 400 and above), by status, summed over the threads
-- in done(): its summary says only how many, and a refused post (409, 422, 429, 403) and a
-- server error (500) mean different things.
bad = {}

function response(status, headers, body)
  if status >= 400 then bad[status] = (bad[status] or 0) + 1 end
end

function statuses_json()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("bad") or {}) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
