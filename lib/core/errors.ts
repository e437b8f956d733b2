/** Which layer of a composition an operation touched. */
export type CacheLayer = 'l1' | 'l2';

/** The store operation that failed. */
export type CacheOperation = 'get' | 'set' | 'delete' | 'clear' | 'refill';

/** Base class of every error this library throws or reports. */
export class LayeredCacheError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A single layer failed an operation. `cause` is what the store threw. */
export class CacheLayerError extends LayeredCacheError {
  constructor(
    readonly layer: CacheLayer,
    readonly operation: CacheOperation,
    readonly key: string,
    cause: unknown,
  ) {
    super(`${layer.toUpperCase()} ${operation} of "${key}" failed: ${describeCause(cause)}`, { cause });
  }
}

/** Both layers failed; keeps both causes. */
export class BothLayersFailedError extends LayeredCacheError {
  constructor(
    readonly l1Error: unknown,
    readonly l2Error: unknown,
  ) {
    super(`Both cache layers failed. L1: ${describeCause(l1Error)}. L2: ${describeCause(l2Error)}`, {
      cause: l2Error,
    });
  }
}

/** A value could not be encoded for (or decoded from) a shared layer. */
export class CacheSerializationError extends LayeredCacheError {}

/**
 * A value whose text in the shared layer is larger than `maxValueBytes`. Written, it is refused before any
 * layer is written, so it is cached nowhere: `set` rejects with this error, `getOrSet`, `@Cacheable` and
 * `@CacheWrite` return the value uncached and report it as an `error` event. Read from L2 (another writer
 * stored it), it is not decoded: the read is a miss, reported with this error.
 *
 * @example
 * try {
 *   await cache.set('report', hugeReport);
 * } catch (error) {
 *   if (error instanceof CacheValueTooLargeError) logger.warn(`not cached: ${error.bytes} bytes > ${error.maxValueBytes}`);
 * }
 */
export class CacheValueTooLargeError extends CacheSerializationError {
  /** The key, as stored in the layers (with its namespace). */
  readonly key: string;
  /** UTF-8 bytes of the entry's text; for a text read back, at least this many. */
  readonly bytes: number;
  /** The limit it exceeded. */
  readonly maxValueBytes: number;

  constructor(message: string, details: { readonly key: string; readonly bytes: number; readonly maxValueBytes: number }) {
    super(message);
    this.key = details.key;
    this.bytes = details.bytes;
    this.maxValueBytes = details.maxValueBytes;
  }
}

/** A store call took longer than its timeout. */
export class CacheTimeoutError extends LayeredCacheError {}

/**
 * A layer was not called because its circuit breaker is open (it failed repeatedly and is resting).
 * Nothing was sent to the layer; the composition treats such a read as a miss and such a write as one to
 * replay later.
 */
export class CircuitOpenError extends LayeredCacheError {}

/**
 * What the Redis client library (node-redis or ioredis) reported: an error reply to a command
 * (`WRONGPASS ...`, `NOAUTH ...`, `OOM ...`, `READONLY ...`) or a connection failure
 * (`connect ECONNREFUSED 127.0.0.1:6380`). `RedisStore` puts one in place of every error of the client
 * library, because those can carry what was sent to Redis: ioredis keeps the arguments of the failed command,
 * which for `AUTH` and `HELLO` are the username and the password. This one keeps only the message, with every
 * username and password the store knows of replaced by `***`, the client library's error `name` and
 * `code`, and as `cause` the same for that error's own cause. The original error is not kept.
 *
 * @example
 * try {
 *   await cache.get('user:1');
 * } catch (error) {
 *   const cause = error instanceof CacheLayerError ? error.cause : undefined;
 *   if (cause instanceof RedisCommandError && cause.message.startsWith('WRONGPASS')) alertOps('Redis password rejected');
 * }
 */
export class RedisCommandError extends LayeredCacheError {
  /**
   * `name` of the client library's error, or its class's name where the name is only `Error`: e.g.
   * `ReplyError` (ioredis), `SimpleError` (node-redis), `MaxRetriesPerRequestError` or `Error`.
   */
  readonly driverErrorName: string;
  /** `code` of the client library's error when it had one, e.g. `ECONNREFUSED`; `undefined` for error replies. */
  readonly code: string | undefined;
  /**
   * True when Redis answered the command and refused it (`OOM`, `READONLY`, `NOPERM`, `WRONGTYPE`...): Redis
   * is up, and the refusal says nothing of other commands. False for a connection that failed, and for the
   * replies of a Redis that cannot serve anything yet (`LOADING`, `BUSY`, `MASTERDOWN`...).
   */
  readonly refusal: boolean;

  constructor(message: string, details: { readonly driverErrorName: string; readonly code?: string; readonly cause?: RedisCommandError; readonly refusal?: boolean }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.driverErrorName = details.driverErrorName;
    this.code = details.code;
    this.refusal = details.refusal ?? false;
  }
}

/**
 * True when a layer answered a call with a refusal ({@link RedisCommandError.refusal}): the layer is up, so
 * the refusal is no reason to stop calling it for other operations.
 */
export function isRefusal(error: unknown): boolean {
  return error instanceof RedisCommandError && error.refusal;
}

/** Text of an unknown thrown value, for messages. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
