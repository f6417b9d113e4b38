-- wrk script: every request takes the next line of a TSV file ("path<TAB>Authorization"),
-- so each request carries a different valid token.
local requests = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    local path, auth = line:match("^([^\t]+)\t?(.*)$")
    local headers = {}
    if auth and auth ~= "" then headers["Authorization"] = auth end
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end
