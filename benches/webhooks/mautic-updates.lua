-- wrk script of scripts/bench-webhooks.sh: every request POSTs a Mautic contact update
-- (mautic.lead_post_save_update with the contact's fields, as Mautic sends them) for the
-- next contact of WPF_BENCH_FIRST_CONTACT .. +WPF_BENCH_CONTACTS-1, round robin over the wrk
-- threads. The floors get the same body and ignore it, so every run reads the same bytes.
local first = tonumber(os.getenv("WPF_BENCH_FIRST_CONTACT") or "1")
local contacts = tonumber(os.getenv("WPF_BENCH_CONTACTS") or "1000")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("WPF_BENCH_WRK_THREADS") or "2")
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local contact = first + ((counter * nthreads + id) % contacts)
  local body = string.format(
    '{"mautic.lead_post_save_update":[{"contact":{"id":%d,"fields":{"core":{"email":{"alias":"email","value":"bench%d@site.example"},"firstname":{"alias":"firstname","value":"w%d"}}},"tags":[{"tag":"bench"}]},"timestamp":"%s"}]}',
    contact, contact, counter, os.date("!%Y-%m-%dT%H:%M:%S+00:00"))
  return wrk.format("POST", nil, headers, body)
end
