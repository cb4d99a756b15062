// The Lua scripts of RedisPresence (see redispresence.h for the key layout). Time is Redis's own
// clock (TIME; Redis 7 replicates script effects, so TIME is allowed), so node clocks never
// matter. Room lists travel as one comma-separated string (room names cannot hold a comma).
#pragma once

namespace parley::server::presencescripts {

// Shared helpers, prepended to every script.
#define PARLEY_PRESENCE_LUA_PRELUDE                                                                \
    "local t = redis.call('TIME')\n"                                                               \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                      \
    "local function split(s)\n"                                                                    \
    "  local out = {}\n"                                                                           \
    "  if s then for r in string.gmatch(s, '[^,]+') do out[#out + 1] = r end end\n"                \
    "  return out\n"                                                                               \
    "end\n"                                                                                        \
    "local function announce(channel, user, online, rooms)\n"                                      \
    "  if #rooms > 0 then\n"                                                                       \
    "    redis.call('PUBLISH', channel, cjson.encode({u = user, o = online, r = rooms}))\n"        \
    "  end\n"                                                                                      \
    "end\n"                                                                                        \
    "local function setOnline(sessions, online)\n"                                                 \
    "  local last = redis.call('ZRANGE', sessions, -1, -1, 'WITHSCORES')\n"                        \
    "  if #last == 0 then redis.call('DEL', online) return end\n"                                  \
    "  redis.call('SET', online, '1', 'PX', math.max(1, tonumber(last[2]) - now))\n"               \
    "end\n"                                                                                        \
    "local function dropExpired(sessions, rooms, expiry, user)\n"                                  \
    "  for _, s in ipairs(redis.call('ZRANGEBYSCORE', sessions, '-inf', now)) do\n"                \
    "    redis.call('ZREM', sessions, s)\n"                                                        \
    "    redis.call('HDEL', rooms, s)\n"                                                           \
    "    redis.call('ZREM', expiry, user .. '|' .. s)\n"                                           \
    "  end\n"                                                                                      \
    "end\n"

// KEYS: sessions (zset session -> expiry ms), rooms (hash session -> rooms), online (string with
// PX), expiry (the global zset "user|session" -> expiry ms).
// ARGV: user, session, ms left to live, rooms, channel.
// Sets the session's expiry and rooms; announces {online} to the rooms no live session of the
// user was in before (all of them when the user was offline). Returns 1 if the user came online.
inline constexpr const char* kAlive = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
dropExpired(KEYS[1], KEYS[2], KEYS[4], ARGV[1])
local wasOnline = redis.call('ZCARD', KEYS[1]) > 0
local before = {}
if wasOnline then
  for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
    for _, r in ipairs(split(v)) do before[r] = true end
  end
end
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expires, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], expires, ARGV[1] .. '|' .. ARGV[2])
setOnline(KEYS[1], KEYS[3])
local audience = {}
for _, r in ipairs(split(ARGV[4])) do
  if not before[r] then audience[#audience + 1] = r end
end
announce(ARGV[5], ARGV[1], true, audience)
if wasOnline then return 0 end
return 1
)lua";

// KEYS: as kAlive. ARGV: user, session, channel.
// Removes the session; announces {offline} to its rooms if the user has no live session left.
// Returns 1 if the user went offline.
inline constexpr const char* kDown = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
local rooms = redis.call('HGET', KEYS[2], ARGV[2])
if not rooms then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1] .. '|' .. ARGV[2])
dropExpired(KEYS[1], KEYS[2], KEYS[4], ARGV[1])
setOnline(KEYS[1], KEYS[3])
if redis.call('ZCARD', KEYS[1]) > 0 then
  return 0
end
redis.call('DEL', KEYS[2])
announce(ARGV[3], ARGV[1], false, split(rooms))
return 1
)lua";

// KEYS: expiry. ARGV: key prefix ("parley:{u:"), channel, max sessions per call.
// Ends every session whose expiry has passed (up to the limit); announces {offline} for users
// left without a live session. The users' keys are derived here, so this script needs one Redis
// (on Redis Cluster the sweep would run per slot). Returns the number of sessions ended.
inline constexpr const char* kSweep = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local bar = string.find(member, '|', 1, true)
  if bar then
    local user = string.sub(member, 1, bar - 1)
    local session = string.sub(member, bar + 1)
    local base = ARGV[1] .. user .. '}:'
    local sessions, rooms, online = base .. 'ps', base .. 'pr', base .. 'on'
    local score = redis.call('ZSCORE', sessions, session)
    if score and tonumber(score) <= now then
      local left = redis.call('HGET', rooms, session)
      redis.call('ZREM', sessions, session)
      redis.call('HDEL', rooms, session)
      setOnline(sessions, online)
      if redis.call('ZCARD', sessions) == 0 then
        redis.call('DEL', rooms)
        announce(ARGV[2], user, false, split(left))
      end
    end
  end
end
return #due
)lua";

#undef PARLEY_PRESENCE_LUA_PRELUDE

} // namespace parley::server::presencescripts
