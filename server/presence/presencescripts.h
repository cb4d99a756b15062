// The Lua scripts of RedisPresence (see redispresence.h for the key layout). Time is Redis's own
// clock (TIME; Redis 7 replicates script effects, so TIME is allowed), so node clocks never
// matter. Room lists travel as one comma-separated string (room names cannot hold a comma).
#pragma once

namespace parley::server::presencescripts {

// Shared helpers, prepended to every script. `counts` is the global hash room -> online users
// (each user once per room, whatever their sessions): every change of a user's rooms goes through
// recount(before, after) with the union of their live sessions' rooms on either side, so the
// counts stay exact by construction (every script is atomic). audience() lists the rooms to
// announce with those counts; each node keeps the ones within its own --presence-max-members.
#define PARLEY_PRESENCE_LUA_PRELUDE                                                                \
    "local t = redis.call('TIME')\n"                                                               \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                      \
    "local function split(s)\n"                                                                    \
    "  local out = {}\n"                                                                           \
    "  if s then for r in string.gmatch(s, '[^,]+') do out[#out + 1] = r end end\n"                \
    "  return out\n"                                                                               \
    "end\n"                                                                                        \
    "local function roomsOf(roomsHash)\n"                                                          \
    "  local set = {}\n"                                                                           \
    "  for _, v in ipairs(redis.call('HVALS', roomsHash)) do\n"                                    \
    "    for _, r in ipairs(split(v)) do set[r] = true end\n"                                      \
    "  end\n"                                                                                      \
    "  return set\n"                                                                               \
    "end\n"                                                                                        \
    "local function usersIn(counts, room)\n"                                                       \
    "  return tonumber(redis.call('HGET', counts, room) or '0')\n"                                 \
    "end\n"                                                                                        \
    "local function recount(counts, before, after)\n"                                              \
    "  for r in pairs(after) do\n"                                                                 \
    "    if not before[r] then redis.call('HINCRBY', counts, r, 1) end\n"                          \
    "  end\n"                                                                                      \
    "  for r in pairs(before) do\n"                                                                \
    "    if not after[r] and redis.call('HINCRBY', counts, r, -1) <= 0 then\n"                     \
    "      redis.call('HDEL', counts, r)\n"                                                        \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "end\n"                                                                                        \
    "local function audience(counts, list, skip)\n"                                                \
    "  local rooms, users, seen = {}, {}, {}\n"                                                    \
    "  for _, r in ipairs(list) do\n"                                                              \
    "    if not skip[r] and not seen[r] then\n"                                                    \
    "      seen[r] = true\n"                                                                       \
    "      rooms[#rooms + 1] = r\n"                                                                \
    "      users[#users + 1] = usersIn(counts, r)\n"                                               \
    "    end\n"                                                                                    \
    "  end\n"                                                                                      \
    "  return rooms, users\n"                                                                      \
    "end\n"                                                                                        \
    "local function announce(channel, user, online, rooms, users)\n"                               \
    "  if #rooms > 0 then\n"                                                                       \
    "    local message = {u = user, o = online, r = rooms, n = users}\n"                           \
    "    redis.call('PUBLISH', channel, cjson.encode(message))\n"                                  \
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
// PX), expiry (the global zset "user|session" -> expiry ms), counts (the global hash room ->
// online users).
// ARGV: user, session, ms left to live, rooms, channel.
// Sets the session's expiry and rooms; announces {online} to the rooms no live session of the
// user was in before (all of them when the user was offline), with their user counts after the
// join. Returns 1 if the user came online.
inline constexpr const char* kAlive = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
local had = roomsOf(KEYS[2])
dropExpired(KEYS[1], KEYS[2], KEYS[4], ARGV[1])
local wasOnline = redis.call('ZCARD', KEYS[1]) > 0
local before = {}
if wasOnline then before = roomsOf(KEYS[2]) end
local expires = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expires, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], expires, ARGV[1] .. '|' .. ARGV[2])
setOnline(KEYS[1], KEYS[3])
recount(KEYS[5], had, roomsOf(KEYS[2]))
local rooms, users = audience(KEYS[5], split(ARGV[4]), before)
announce(ARGV[5], ARGV[1], true, rooms, users)
if wasOnline then return 0 end
return 1
)lua";

// KEYS: as kAlive. ARGV: user, session, channel.
// Removes the session; announces {offline} to its rooms, with their user counts before the
// leave, if the user has no live session left. Returns 1 if the user went offline.
inline constexpr const char* kDown = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
local left = redis.call('HGET', KEYS[2], ARGV[2])
if not left then
  return 0
end
local had = roomsOf(KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1] .. '|' .. ARGV[2])
dropExpired(KEYS[1], KEYS[2], KEYS[4], ARGV[1])
setOnline(KEYS[1], KEYS[3])
if redis.call('ZCARD', KEYS[1]) > 0 then
  recount(KEYS[5], had, roomsOf(KEYS[2]))
  return 0
end
redis.call('DEL', KEYS[2])
local rooms, users = audience(KEYS[5], split(left), {})
recount(KEYS[5], had, {})
announce(ARGV[3], ARGV[1], false, rooms, users)
return 1
)lua";

// KEYS: expiry, counts. ARGV: key prefix ("parley:{u:"), channel, max sessions per call.
// Ends every session whose expiry has passed (up to the limit); announces {offline} for users
// left without a live session, as kDown does. The users' keys are derived here, so this script
// needs one Redis (on Redis Cluster the sweep would run per slot). Returns the number of
// sessions ended.
inline constexpr const char* kSweep = PARLEY_PRESENCE_LUA_PRELUDE R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local bar = string.find(member, '|', 1, true)
  if bar then
    local user = string.sub(member, 1, bar - 1)
    local session = string.sub(member, bar + 1)
    local base = ARGV[1] .. user .. '}:'
    local sessions, roomsKey, online = base .. 'ps', base .. 'pr', base .. 'on'
    local score = redis.call('ZSCORE', sessions, session)
    if score and tonumber(score) <= now then
      local had = roomsOf(roomsKey)
      local left = redis.call('HGET', roomsKey, session)
      redis.call('ZREM', sessions, session)
      redis.call('HDEL', roomsKey, session)
      setOnline(sessions, online)
      if redis.call('ZCARD', sessions) == 0 then
        redis.call('DEL', roomsKey)
        local rooms, users = audience(KEYS[2], split(left), {})
        recount(KEYS[2], had, {})
        announce(ARGV[2], user, false, rooms, users)
      else
        recount(KEYS[2], had, roomsOf(roomsKey))
      end
    end
  end
end
return #due
)lua";

#undef PARLEY_PRESENCE_LUA_PRELUDE

} // namespace parley::server::presencescripts
