/** What a background task is for; used in counts, events and logs. */
export type OffloadTaskKind = 'race-loser' | 'write' | (string & {});

/** Options of one background task. */
export interface OffloadRunOptions {
  /** Tasks with the same key are deduplicated while one is queued or running. */
  key?: string;
  /** Overrides the service's default per-task timeout. */
  timeoutMs?: number;
}

/** A background task. It should stop work when `signal` aborts (timeout or forced shutdown). */
export type OffloadTask = (signal: AbortSignal) => Promise<unknown>;

/**
 * The part of the offload service that policies see: start work the caller must not wait for.
 * Returns `true` when the task was accepted (or joined an identical in-flight task),
 * `false` when it was rejected because the service is full or shutting down.
 */
export interface Offload {
  run(kind: OffloadTaskKind, task: OffloadTask, options?: OffloadRunOptions): boolean;
}
