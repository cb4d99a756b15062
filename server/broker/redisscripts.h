// The Lua scripts of RedisBroker (see redisbroker.h for the key layout). Each touches only the
// keys of one room (one hash tag) and is atomic in Redis.
#pragma once

namespace parley::server::redisscripts {

// KEYS: seq, epoch, hist, dedupe. ARGV: room, sender, client_id, body, ts, msg_id, new epoch,
// history max, dedupe ttl (s), channel, history max age (s, 0: none).
// Age trimming happens here, on publish (like the count cap): entries are in seq order and their
// `t` (the publishing node's clock) grows with it, so the old ones are a prefix of the stream;
// at most 100 are looked at per publish, which keeps the script short and catches up over a few
// publishes. A room nobody writes to keeps its old entries until its next message.
// Returns {0, payload} for a new message, {1, payload-of-the-original} for a duplicate.
inline constexpr const char* kPublish = R"lua(
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[2], epoch)
end
local dup = redis.call('GET', KEYS[4])
if dup then
  return {1, dup}
end
local seq = redis.call('INCR', KEYS[1])
local payload = cjson.encode({r = ARGV[1], e = epoch, q = tostring(seq), i = ARGV[6],
  s = ARGV[2], c = ARGV[3], b = ARGV[4], t = ARGV[5]})
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], tostring(seq) .. '-0', 'm', payload)
local maxAge = tonumber(ARGV[11] or '0')
if maxAge > 0 then
  local cutoff = tonumber(ARGV[5]) - maxAge * 1000
  local keepFrom = nil
  for _, entry in ipairs(redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 100)) do
    local old = cjson.decode(entry[2][2])
    if tonumber(old.t) >= cutoff then
      break
    end
    keepFrom = tonumber(string.match(entry[1], '^(%d+)')) + 1
  end
  if keepFrom then
    redis.call('XTRIM', KEYS[3], 'MINID', tostring(keepFrom) .. '-0')
  end
end
redis.call('SET', KEYS[4], payload, 'EX', ARGV[9])
redis.call('PUBLISH', ARGV[10], payload)
return {0, payload}
)lua";

// KEYS: seq, epoch, hist. ARGV: new epoch. Creates the room's epoch if absent.
// Returns {epoch, last seq, first retained seq} (numbers as strings).
inline constexpr const char* kPosition = R"lua(
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[2], epoch)
end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local firstSeq = 1
if last > 0 then
  firstSeq = last + 1
  local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
  if #first > 0 then
    firstSeq = tonumber(string.match(first[1][1], '^(%d+)'))
  end
end
return {epoch, tostring(last), tostring(firstSeq)}
)lua";

// KEYS: seq, epoch, hist. ARGV: mode (after | before | latest), seq argument, max seq, limit.
// Returns {0} when the room does not exist, else
// {1, epoch, last seq, first retained seq, has_more (0/1), payload...} ascending.
inline constexpr const char* kHistory = R"lua(
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  return {0}
end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local firstSeq = 1
if last > 0 then
  firstSeq = last + 1
  local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
  if #first > 0 then
    firstSeq = tonumber(string.match(first[1][1], '^(%d+)'))
  end
end
local limit = tonumber(ARGV[4])
local entries = {}
local ascending = true
if ARGV[1] == 'after' then
  local from = tonumber(ARGV[2]) + 1
  local to = last
  if ARGV[3] ~= '' and tonumber(ARGV[3]) < to then
    to = tonumber(ARGV[3])
  end
  if to >= from then
    entries = redis.call('XRANGE', KEYS[3], string.format('%d-0', from),
      string.format('%d-0', to), 'COUNT', limit + 1)
  end
elseif ARGV[1] == 'before' then
  local to = tonumber(ARGV[2]) - 1
  ascending = false
  if to >= 1 then
    entries = redis.call('XREVRANGE', KEYS[3], string.format('%d-0', to), '-', 'COUNT', limit + 1)
  end
else
  ascending = false
  entries = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', limit + 1)
end
local hasMore = 0
if #entries > limit then
  hasMore = 1
end
local out = {1, epoch, tostring(last), tostring(firstSeq), hasMore}
local n = math.min(#entries, limit)
if ascending then
  for k = 1, n do
    out[#out + 1] = entries[k][2][2]
  end
else
  for k = n, 1, -1 do
    out[#out + 1] = entries[k][2][2]
  end
end
return out
)lua";

} // namespace parley::server::redisscripts
