import { DeadlineQueue } from './deadline-queue.js';

/** The largest delay `setTimeout` honours; Node clamps larger ones to 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The time limits of every `withTimeout` call, on one timer: each item rejects its call. */
const TIME_LIMITS = new DeadlineQueue<() => void>((timeOut) => timeOut());

/**
 * Runs `run` and settles with it, or rejects with `onTimeout()` after `timeoutMs`, whichever comes first.
 * The operation is not cancelled (a store call cannot be); its late outcome is observed and ignored, so
 * it never becomes an unhandled rejection. The time limit does not keep the process alive. `onSettled`
 * hears how the call ended (whether it failed, and with the error or the timeout's) just before the
 * caller does, which spares a caller that must account for it a promise of its own.
 */
export function withTimeout<R>(run: () => R | Promise<R>, timeoutMs: number, onTimeout: () => Error, onSettled?: (failed: boolean, error: unknown) => void): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const deadline = TIME_LIMITS.add(() => {
      const error = onTimeout();
      onSettled?.(true, error);
      reject(error);
    }, timeoutMs);
    let pending: Promise<R>;
    try {
      pending = Promise.resolve(run());
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (!TIME_LIMITS.cancel(deadline)) return;
        onSettled?.(false, undefined);
        resolve(value);
      },
      (error: unknown) => {
        if (!TIME_LIMITS.cancel(deadline)) return;
        onSettled?.(true, error);
        reject(error);
      },
    );
  });
}
