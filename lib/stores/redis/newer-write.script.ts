import { createHash } from 'node:crypto';

/**
 * The script every versioned write and delete of `RedisStore` runs: it stores `ARGV[2]` under `KEYS[1]`
 * only when what the key holds is older than `ARGV[1]`, the write's version (see `VersionClock`). What the
 * key holds is read from the first 25 bytes only (`2|` and the 23 characters of a version), so the check
 * costs the same whatever the size of the stored value; text without a version (absent key, format 1,
 * another program's value) counts as older than any write. `ARGV[3]` is the `PX` in milliseconds, or
 * empty for none; for a delete mark (`ARGV[4]` = `1`) the `PX` grows to what the replaced entry had left,
 * so that the mark outlives every write it must refuse. Answers 1 when it stored, 0 when a newer or equal
 * version was there. One key per call, so it works on a Redis Cluster too.
 * @internal
 */
export const NEWER_WRITE_SCRIPT = `
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
if string.sub(head, 1, 2) == '2|' then
  local held = string.sub(head, 3, 25)
  local write = ARGV[1]
  local heldMs, writeMs = tonumber(string.sub(held, 1, 13)), tonumber(string.sub(write, 1, 13))
  if heldMs ~= nil and writeMs ~= nil and string.len(held) == 23 then
    if heldMs > writeMs then return 0 end
    if heldMs == writeMs then
      local heldCount, writeCount = tonumber(string.sub(held, 14, 17)), tonumber(string.sub(write, 14, 17))
      if heldCount > writeCount then return 0 end
      if heldCount == writeCount and string.sub(held, 18) >= string.sub(write, 18) then return 0 end
    end
  end
end
local px = ARGV[3]
if ARGV[4] == '1' then
  local left = redis.call('PTTL', KEYS[1])
  if left > tonumber(px) then px = tostring(left) end
end
if px == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', px)
end
return 1
`;

/** SHA-1 of {@link NEWER_WRITE_SCRIPT}, for `EVALSHA`. @internal */
export const NEWER_WRITE_SHA = createHash('sha1').update(NEWER_WRITE_SCRIPT).digest('hex');

/** True for Redis's answer to an `EVALSHA` of a script it does not hold (after a restart or `SCRIPT FLUSH`). */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
