/**
 * One cached value together with the metadata every layer keeps for it.
 * Times are epoch milliseconds; `expiresAt: null` means the entry never expires.
 */
export interface CacheEntry<T = unknown> {
  readonly value: T;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  /**
   * Order of the write that made the entry among all writes of its key (see `VersionClock`); a shared
   * layer that checks versions keeps the newest. Absent on entries built by hand.
   */
  readonly version?: string;
  /**
   * The tags of the entry, each with the version it had when the value was made (`''` for a tag never
   * invalidated): the entry is stale once any of its tags was invalidated since (see `invalidateTags`).
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Length of the entry's text in the shared layer (its value's serialized text, in UTF-16 code units: its
   * bytes for ASCII text), set by `RedisStore` on the entries it reads. A `MemoryStore` bounded by
   * `maxBytes` counts it as the entry's size, so that measuring an L2 hit never serializes it again. Absent
   * otherwise (the entries the cache writes are measured by the text it just made for them).
   */
  readonly encodedLength?: number;
}

/**
 * `entry`, which must have just been made (no layer holds it yet), with its {@link CacheEntry.encodedLength}.
 * Set on the entry itself rather than kept aside, which costs a property and no look-up.
 */
export function withEncodedLength<E extends CacheEntry>(entry: E, length: number): E {
  (entry as { encodedLength?: number }).encodedLength = length;
  return entry;
}

/** Builds an entry for `value` that lives `ttlMs` milliseconds from `now` (no expiry when `ttlMs` is 0 or absent). */
export function createCacheEntry<T>(value: T, ttlMs: number | undefined, now: number = Date.now(), version?: string): CacheEntry<T> {
  const expiresAt = ttlMs !== undefined && ttlMs > 0 ? now + ttlMs : null;
  return version === undefined ? { value, createdAt: now, expiresAt } : { value, createdAt: now, expiresAt, version };
}

/**
 * Milliseconds the entry still has to live: `undefined` when it never expires,
 * `0` or less when it has expired.
 */
export function remainingTtl(entry: CacheEntry, now: number = Date.now()): number | undefined {
  return entry.expiresAt === null ? undefined : entry.expiresAt - now;
}

/** True when the entry has an expiry and it has passed. */
export function isExpired(entry: CacheEntry, now: number = Date.now()): boolean {
  return entry.expiresAt !== null && entry.expiresAt <= now;
}
