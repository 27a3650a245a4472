-- wrk script: each request takes the next path from the file given after "--",
-- starting at a different place in each thread. Sends a fixed participant cookie so that
-- hoclieu counts one device (as a real visitor would be), not one new device per request.
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Cookie"] = "hl_p=0123456789abcdef0123456789abcdef" })
end
