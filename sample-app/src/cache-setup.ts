/**
 * The line the sample app logs at startup about its cache. It names the Redis host only: a URL may carry
 * a username and password, which have no place in a log.
 */
export function cacheSetupLine(redisUrl: string | undefined): string {
  if (redisUrl === undefined || redisUrl === '') {
    return 'Cache: REDIS_URL is not set, so the cache runs in process memory only (L1). Set REDIS_URL=redis://127.0.0.1:6379 to add the shared Redis layer.';
  }
  return `Cache: L1 in memory + L2 on Redis at ${redisHost(redisUrl)}`;
}

function redisHost(redisUrl: string): string {
  try {
    return new URL(redisUrl).host || 'localhost:6379';
  } catch {
    // Echoing an unparseable URL could still leak its password.
    return 'the address in REDIS_URL (not a valid URL)';
  }
}
