import { createHash } from 'node:crypto';

/** A Lua script and its SHA-1, for `EVALSHA` with an `EVAL` fallback. @internal */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** A script and its SHA-1. @internal */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Takes the lease `KEYS[1]` for `ARGV[2]` milliseconds under the token `ARGV[1]` when nobody holds it:
 * answers 0 when taken, else the milliseconds the holder's lease has left (at least 1).
 * @internal
 */
export const TRY_LEASE_SCRIPT = luaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then return 1 end
return left
`);

/** Deletes the lease `KEYS[1]` when the token `ARGV[1]` still holds it; answers 1 when it did. @internal */
export const RELEASE_LEASE_SCRIPT = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
