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

/** A store call took longer than its timeout. */
export class CacheTimeoutError extends LayeredCacheError {}

/**
 * A layer was not called because its circuit breaker is open (it failed repeatedly and is resting).
 * Nothing was sent to the layer; the composition treats such a read as a miss and such a write as one to
 * replay later.
 */
export class CircuitOpenError extends LayeredCacheError {}

/** Text of an unknown thrown value, for messages. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
