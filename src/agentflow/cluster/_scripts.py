"""The Lua scripts behind leases, fenced checkpoint writes and the wake-up queue.

Each script runs atomically inside Redis, so a check and the write it guards can never be
split by another client. Contracts (keys as in :mod:`agentflow.cluster._redis`):

Leases (``KEYS = lease, fence, dirty``)

- ``ACQUIRE(owner, ttl_ms)``: lease free -> ``INCR fence`` = T, ``SET lease "T owner" NX PX
  ttl``, clear ``dirty``, return ``{T, ""}``. Lease held -> set ``dirty`` (expiring with the
  lease) and return ``{0, "HOLDER_T HOLDER_OWNER"}``.
- ``RENEW(value, ttl_ms)``: only if ``lease == value``: extend it (and ``dirty``) -> 1, else 0.
- ``RELEASE(value, ttl_ms, force)``: not the holder -> -1. ``dirty`` set and not ``force`` ->
  clear it, extend the lease, 0 (the holder reads the session again). Else delete -> 1.

Fenced checkpoint writes (``KEYS[1] = lease``; ``ARGV[1] = token``, ``ARGV[2] =
retention_ms``). Every write first checks the token: ``""`` (unfenced) is accepted only while
nobody holds the lease; a token only while the lease holds exactly that token. A refusal is
an error reply starting with ``FENCED`` and writes nothing. Accepted writes re-arm the
retention expiry (when > 0) of the keys they touch. Call records are ``"STATE FENCE OWNER"``.

- ``MARK_DISPATCHED(+ seen, pos; event_id, processed_at)``: ``SADD``; position = event;
  ``processed_at`` kept when ``""``.
- ``CLAIM(+ calls; call_id, owner)``: ``HSETNX`` ``claimed`` -> 1 if new, else 0.
- ``RECORD_RESULT(+ calls, replies, ready, seq; call_id, owner, reply)``: unless ``sent``:
  state ``result_ready``, store the reply, append to ``ready`` -> 1; ``sent`` -> 0.
- ``MARK_SENT(+ calls, ready; call_id, owner)``: state ``sent`` from any state (reply kept),
  out of ``ready``.
- ``RECLAIM(+ calls; call_id, owner)``: a call ``claimed`` under an older fence becomes
  ``claimed`` under this token -> 1; anything else -> 0. Needs a token.
- ``FORGET(+ seen, pos, calls, replies, ready, seq)``: delete them (lease and fence stay).

Queue (``KEYS`` in the ``{wake}`` slot)

- ``ENQUEUE(stream, queued, hook; session, reason, webhook_id, hook_ttl_ms, coalesce_ms)``:
  a ``webhook_id`` seen before -> ``{"duplicate"}``; a wake-up of the session still queued
  (``coalesce_ms`` > 0) -> ``{"coalesced"}``; else ``XADD`` -> ``{"queued", ENTRY_ID}``.
- ``ACK(stream; group, consumer, id)``: only if ``id`` is pending for ``consumer``: ``XACK`` +
  ``XDEL`` -> 1, else 0 (an entry another worker took over is not acknowledged for it).
- ``TOUCH(stream; group, consumer, id)``: only if pending for ``consumer``: ``XCLAIM`` it to
  itself with ``JUSTID`` (its idle time restarts, so nobody takes it over) -> 1, else 0.

Session index (``KEYS[1] = active``, a zset scored by Redis's own clock in ms)

- ``NOTE(session)``: score = now -> now.
- ``SETTLE(session, elapsed_ms)``: remove it only if it was noted before now - elapsed (not
  since the caller's read began, which took ``elapsed_ms``) -> 1, else 0. Only a duration
  crosses machines, so the callers' clocks need not agree.
- ``STALE(older_than_ms, count)``: up to ``count`` sessions scored before now - older_than.
"""

from __future__ import annotations

__all__ = [
    "ACK",
    "ACQUIRE",
    "CLAIM",
    "ENQUEUE",
    "FORGET",
    "MARK_DISPATCHED",
    "MARK_SENT",
    "NOTE",
    "RECLAIM",
    "RECORD_RESULT",
    "RELEASE",
    "RENEW",
    "SETTLE",
    "STALE",
    "TOUCH",
]

ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  local left = redis.call('PTTL', KEYS[1])
  if left < 1 then left = tonumber(ARGV[2]) end
  redis.call('SET', KEYS[3], '1', 'PX', left)
  return {0, held}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[1], 'NX', 'PX', ARGV[2])
redis.call('DEL', KEYS[3])
return {token, ''}
"""

RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('DEL', KEYS[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('DEL', KEYS[1])
return 1
"""

# The fence check every checkpoint write starts with; defines `fence` and `keep(key)`.
_FENCE = """
local held = redis.call('GET', KEYS[1])
local token = ARGV[1]
if token == '' then
  if held then
    return redis.error_reply('FENCED unfenced write while a worker holds the lease (token '
      .. string.match(held, '^(%d+)') .. ')')
  end
elseif not held then
  return redis.error_reply('FENCED the lease of token ' .. token .. ' is no longer held')
elseif string.match(held, '^(%d+)') ~= token then
  return redis.error_reply('FENCED token ' .. token .. ' is stale: the lease is held with token '
    .. string.match(held, '^(%d+)'))
end
local fence = token
if token == '' then fence = '0' end
local retention = tonumber(ARGV[2])
local function keep(key)
  if retention > 0 then redis.call('PEXPIRE', key, retention) end
end
"""

MARK_DISPATCHED = (
    _FENCE
    + """
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], 'event_id', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'processed_at', ARGV[4]) end
keep(KEYS[2]) keep(KEYS[3])
return 1
"""
)

CLAIM = (
    _FENCE
    + """
if redis.call('HSETNX', KEYS[2], ARGV[3], 'claimed ' .. fence .. ' ' .. ARGV[4]) == 0 then
  return 0
end
keep(KEYS[2])
return 1
"""
)

RECORD_RESULT = (
    _FENCE
    + """
local cur = redis.call('HGET', KEYS[2], ARGV[3])
if cur and string.match(cur, '^(%S+)') == 'sent' then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], 'result_ready ' .. fence .. ' ' .. ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[3])
keep(KEYS[2]) keep(KEYS[3]) keep(KEYS[4]) keep(KEYS[5])
return 1
"""
)

MARK_SENT = (
    _FENCE
    + """
redis.call('HSET', KEYS[2], ARGV[3], 'sent ' .. fence .. ' ' .. ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[3])
keep(KEYS[2])
return 1
"""
)

RECLAIM = (
    _FENCE
    + """
if token == '' then return redis.error_reply('ERR reclaim needs a fencing token') end
local cur = redis.call('HGET', KEYS[2], ARGV[3])
if not cur then return 0 end
local state, old = string.match(cur, '^(%S+) (%d+)')
if state ~= 'claimed' or tonumber(old) >= tonumber(token) then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], 'claimed ' .. fence .. ' ' .. ARGV[4])
return 1
"""
)

FORGET = (
    _FENCE
    + """
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
return 1
"""
)

ENQUEUE = """
if ARGV[3] ~= '' and not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4]) then
  return {'duplicate'}
end
if tonumber(ARGV[5]) > 0 and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[5]) then
  return {'coalesced'}
end
local id = redis.call('XADD', KEYS[1], '*', 'session', ARGV[1], 'reason', ARGV[2],
  'webhook_id', ARGV[3])
return {'queued', id}
"""

_MINE = """
local mine = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #mine == 0 then return 0 end
"""

ACK = (
    _MINE
    + """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
return 1
"""
)

TOUCH = (
    _MINE
    + """
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""
)

# Redis's clock, not the callers': workers on machines whose clocks disagree still agree here.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

NOTE = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
"""
)

SETTLE = (
    _NOW
    + """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > now - tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
)

STALE = (
    _NOW
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])),
  'LIMIT', 0, tonumber(ARGV[2]))
"""
)
