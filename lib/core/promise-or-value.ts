/**
 * A result that is there at once or later. Stores, policies and their closures return it so that an
 * in-process layer answers without a promise (as graphql-js's resolvers do), while a store or policy that
 * returns a promise works exactly the same.
 */
export type PromiseOrValue<T> = T | Promise<T>;

/** True for a promise, or any object with a `then` method, which must be awaited. */
export function isPromiseLike<T>(value: PromiseOrValue<T> | PromiseLike<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * Calls `run` and returns what it returned, a thrown error turned into a rejected promise. Used where one
 * failing closure must not keep a policy from running the other layer.
 */
export function callSafely<R>(run: (key: string) => PromiseOrValue<R>, key: string): PromiseOrValue<R> {
  try {
    return run(key);
  } catch (error) {
    return Promise.reject(error);
  }
}
