/** The largest delay `setTimeout` honours; Node clamps larger ones to 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Runs `run` and settles with it, or rejects with `onTimeout()` after `timeoutMs`, whichever comes first.
 * The operation is not cancelled (a store call cannot be); its late outcome is observed and ignored, so
 * it never becomes an unhandled rejection. The timer does not keep the process alive.
 */
export function withTimeout<R>(run: () => Promise<R>, timeoutMs: number, onTimeout: () => Error): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(onTimeout());
    }, timeoutMs);
    timer.unref();
    let pending: Promise<R>;
    try {
      pending = Promise.resolve(run());
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
