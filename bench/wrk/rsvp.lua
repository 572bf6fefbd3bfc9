-- RSVP posts with a distinct e-mail each, a party of 1 to 3, and the CSRF field the page gave,
-- alternating between two events (one with few seats, one without a limit).
-- Arguments (after --): path, other path, csrf token, run nonce. Cookie etc. come from -H.
dofile("report.lua")

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  paths = {args[1], args[2]}
  csrf, nonce = args[3], args[4]
  tid = tid or 1
  -- wrk.format replaces wrk.headers (the -H ones) with what it is given: start from them.
  headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local body = string.format(
    "name=Bench+Person+%d&email=r%s-%d-%d%%40bench.example.org&phone=&guests=%d" ..
    "&comment=&website=&csrf_token=%s", counter, nonce, tid, counter, counter % 3, csrf)
  return wrk.format("POST", paths[counter % 2 + 1], headers, body)
end
