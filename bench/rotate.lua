-- wrk script: every request takes the next line of a TSV file ("path<TAB>Authorization"),
-- so each request carries a different valid token. Arguments: the file, the number of wrk
-- threads; each thread starts at its own share of the file, so they do not send the same
-- token at the same moment.
--   wrk -t2 ... -s bench/rotate.lua http://127.0.0.1:PORT -- requests.tsv 2
local requests = {}
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local path, auth = line:match("^([^\t]+)\t?(.*)$")
    local headers = {}
    if auth and auth ~= "" then headers["Authorization"] = auth end
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
  local threads = tonumber(args[2]) or 1
  counter = math.floor(#requests * (thread_id or 0) / threads)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end
