/** Which Redis client library a `RedisStore` drives. */
export type RedisDriver = 'node-redis' | 'ioredis';

/** One write of {@link RedisCommands.setManyIfNewer}: the arguments of `setIfNewer`. */
export interface NewerWrite {
  readonly key: string;
  readonly version: string;
  readonly value: string;
  readonly ttlMs: number | undefined;
  readonly deleteMark: boolean;
}

/** The script arguments of a write: its version, text, `PX` (empty for none) and whether it is a delete mark. */
export function newerWriteArguments(write: NewerWrite): [string, string, string, string] {
  // The script compares what the key holds with the head of this write's envelope: `2|` and its version.
  return [`2|${write.version}`, write.value, write.ttlMs === undefined ? '' : String(toPxMilliseconds(write.ttlMs)), write.deleteMark ? '1' : '0'];
}

/** One page of a SCAN: the cursor to continue from (`'0'` when done) and the keys found. */
export interface ScanPage {
  readonly cursor: string;
  readonly keys: readonly string[];
}

/**
 * The few Redis commands `RedisStore` sends, independent of the client library. Implementations do not
 * bound their calls with a timeout (the store does) and never throw synchronously.
 * @internal
 */
export interface RedisCommands {
  readonly driver: RedisDriver;
  /** The last connection error while the client is not ready; `undefined` once it is ready again. */
  readonly connectionError: Error | undefined;
  /**
   * GET: the client's reply as it is, `null` when the key is absent (see {@link replyText}). Replies are
   * passed through untouched, so that a read costs no promise of its own here.
   */
  get(key: string): Promise<unknown>;
  /** MGET: the client's replies, one per key in order (`null` where a key is absent). */
  mget(keys: string[]): Promise<unknown>;
  /** SET with `PX` when `ttlMs` is given (see {@link toPxMilliseconds}), without expiry otherwise; resolves with the client's reply. */
  set(key: string, value: string, ttlMs: number | undefined): Promise<unknown>;
  /**
   * Runs the newer-write script (see `NEWER_WRITE_SCRIPT`): stores `value` unless the key holds a newer
   * version than `version`; `deleteMark` makes the `PX` outlive what the key had left. Resolves with 1 when
   * it stored, 0 when it did not. Loads the script into Redis when Redis does not hold it yet.
   */
  setIfNewer(key: string, version: string, value: string, ttlMs: number | undefined, deleteMark: boolean): Promise<unknown>;
  /** `setIfNewer` for many writes in one script call; resolves with one 1 or 0 per write, in order. */
  setManyIfNewer(writes: readonly NewerWrite[]): Promise<unknown>;
  /** UNLINK (deletes without blocking Redis on large values); resolves with the client's reply. */
  del(keys: readonly string[]): Promise<unknown>;
  /** SCAN with MATCH and COUNT; `match` is a Redis glob pattern. */
  scan(cursor: string, match: string, count: number): Promise<ScanPage>;
  /** Disconnects a client the store created; only detaches from a client it was given. */
  quit(): Promise<void>;
}

/** A reply as text: node-redis returns Buffers when the client maps blob strings to them. */
export function replyText(reply: unknown): string {
  return typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** The `PX` argument for a TTL: whole milliseconds rounded up, at least 1 (`PX 0` is an error in Redis). */
export function toPxMilliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

const GLOB_SPECIAL = /[*?[\]\\]/g;

/** Escapes `* ? [ ] \` so that `text` matches only itself in a SCAN MATCH pattern. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&');
}

/**
 * Remembers the last connection error of a client until it is ready again, so that a timeout can say
 * why. The `'error'` listener also keeps an unlistened error event from crashing the process.
 * @internal
 */
export class ConnectionErrorTracker {
  private lastError: Error | undefined;
  readonly onError = (error: unknown): void => {
    this.lastError = error instanceof Error ? error : new Error(String(error));
  };
  readonly onReady = (): void => {
    this.lastError = undefined;
  };

  /** The remembered error, or `undefined` when `ready` says the client is ready. */
  current(ready: boolean): Error | undefined {
    return ready ? undefined : this.lastError;
  }
}
