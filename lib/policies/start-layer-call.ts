/**
 * Calls a layer closure and returns its promise, with a synchronous throw turned into a rejection so that
 * one broken layer cannot keep a policy from running the other. Unlike wrapping the call in
 * `new Promise((resolve) => resolve(call(key)))`, a native promise is returned as it is, which spares the
 * two extra microtask turns of adopting it.
 */
export function startLayerCall<R>(call: (key: string) => Promise<R>, key: string): Promise<R> {
  try {
    return Promise.resolve(call(key));
  } catch (error) {
    return Promise.reject(error);
  }
}
