import { createHash } from 'node:crypto';

/**
 * The script every versioned write and delete of `RedisStore` runs: it stores `ARGV[2]` under `KEYS[1]`
 * only when what the key holds is older than the write, whose envelope starts with `ARGV[1]` (`2|` and the
 * 23 digits of its version, see `VersionClock`). What the key holds is read from its first 25 bytes only and
 * compared as text with `ARGV[1]`, which orders versions because they have a fixed width; so the check costs
 * the same whatever the size of the stored value, and text that does not start with `2` (absent key, format
 * 1, another program's value) counts as older than any write. `ARGV[3]` is the `PX` in milliseconds, or
 * empty for none; for a delete mark (`ARGV[4]` = `1`) the `PX` grows to what the replaced entry had left,
 * so that the mark outlives every write it must refuse. Answers 1 when it stored, 0 when a newer or equal
 * version was there. One key per call, so it works on a Redis Cluster too.
 * @internal
 */
export const NEWER_WRITE_SCRIPT = `
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
if string.byte(head) == 50 and head >= ARGV[1] then return 0 end
local px = ARGV[3]
if ARGV[4] == '1' then
  local left = redis.call('PTTL', KEYS[1])
  if left > tonumber(px) then px = tostring(left) end
end
if px == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', px) end
return 1
`;

/**
 * {@link NEWER_WRITE_SCRIPT} for many keys at once: `KEYS[i]` with `ARGV[4i-3..4i]`, each write checked and
 * stored on its own exactly as the single-key script does, in order. Answers one 1 or 0 per key. The writes
 * of a burst then cost Redis one script call instead of one each.
 * @internal
 */
export const NEWER_WRITES_SCRIPT = `
local stored = {}
for i = 1, #KEYS do
  local key, px = KEYS[i], ARGV[4 * i - 1]
  local head = redis.call('GETRANGE', key, 0, 24)
  if string.byte(head) == 50 and head >= ARGV[4 * i - 3] then
    stored[i] = 0
  else
    if ARGV[4 * i] == '1' then
      local left = redis.call('PTTL', key)
      if left > tonumber(px) then px = tostring(left) end
    end
    if px == '' then redis.call('SET', key, ARGV[4 * i - 2]) else redis.call('SET', key, ARGV[4 * i - 2], 'PX', px) end
    stored[i] = 1
  end
end
return stored
`;

/** SHA-1 of {@link NEWER_WRITES_SCRIPT}, for `EVALSHA`. @internal */
export const NEWER_WRITES_SHA = createHash('sha1').update(NEWER_WRITES_SCRIPT).digest('hex');

/** SHA-1 of {@link NEWER_WRITE_SCRIPT}, for `EVALSHA`. @internal */
export const NEWER_WRITE_SHA = createHash('sha1').update(NEWER_WRITE_SCRIPT).digest('hex');

/** True for Redis's answer to an `EVALSHA` of a script it does not hold (after a restart or `SCRIPT FLUSH`). */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
