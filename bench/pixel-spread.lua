-- wrk script for bench/pixel.sh's spread load: each request fetches the pixel of one of
-- the registered messages (paths.txt in the working directory, one path per line), picked
-- at random, with a user agent drawn from a realistic mix. The same script runs against
-- nginx (empty_gif answers any path), so both sides pay the same client cost.

local agents = {
  -- weight, user agent
  { 30, "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)" },
  { 10, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0" },
  { 10, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148" },
  { 5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86" },
  { 25, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" },
  { 12, "Mozilla/5.0" },
  { 8, "Mozilla/5.0 (compatible; Mimecast URL Protect)" },
}

local paths = {}
local requests = {}
local total = 0

init = function(args)
  for line in io.lines("paths.txt") do
    paths[#paths + 1] = line
  end
  for _, a in ipairs(agents) do
    total = total + a[1]
  end
  math.randomseed(os.time())
  -- Requests are made once per (path, agent) pair lazily and reused: building the request
  -- text is the client's cost, not the server's, and is the same on both sides.
end

local function agent()
  local r = math.random(total)
  for i, a in ipairs(agents) do
    r = r - a[1]
    if r <= 0 then
      return i
    end
  end
  return #agents
end

request = function()
  local p = math.random(#paths)
  local a = agent()
  local key = p * 16 + a
  local req = requests[key]
  if req == nil then
    req = wrk.format("GET", paths[p], { ["User-Agent"] = agents[a][2] })
    requests[key] = req
  end
  return req
end
