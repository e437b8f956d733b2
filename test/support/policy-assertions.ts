import { expect } from 'vitest';
import { BothLayersFailedError } from '../../lib/core/errors';
import type { Deferred } from './deferred';
import { flush } from './promise-observation';

/** What `promise` rejected with; fails the test when it resolves. */
export async function rejectionOf(result: unknown): Promise<unknown> {
  return Promise.resolve(result).then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** Asserts a BothLayersFailedError that keeps each layer's error in its own slot. */
export function expectBothLayersFailed(error: unknown, l1Error: unknown, l2Error: unknown): void {
  expect(error).toBeInstanceOf(BothLayersFailedError);
  expect((error as BothLayersFailedError).l1Error).toBe(l1Error);
  expect((error as BothLayersFailedError).l2Error).toBe(l2Error);
}

/** Fails both hand-settled layers, `first` one first, letting the policy see each failure on its own. */
async function failBothLayers<T>(
  layers: { l1: Deferred<T>; l2: Deferred<T> },
  first: 'l1' | 'l2',
  l1Error: Error,
  l2Error: Error,
): Promise<void> {
  const [early, late] = first === 'l1' ? [() => layers.l1.reject(l1Error), () => layers.l2.reject(l2Error)] : [() => layers.l2.reject(l2Error), () => layers.l1.reject(l1Error)];
  early();
  await flush();
  late();
}

/** Both orders in which two layers can fail, for `it.each`. */
export const FAILURE_ORDERS = [
  ['L1 fails first', 'l1'],
  ['L2 fails first', 'l2'],
] as const;

/**
 * Starts a policy on two hand-settled layers, fails both (`first` one first) and checks that it rejects with
 * a BothLayersFailedError keeping each layer's error in its own slot.
 */
export async function expectBothFailuresKept<T>(layers: { l1: Deferred<T>; l2: Deferred<T> }, start: () => unknown, first: 'l1' | 'l2'): Promise<void> {
  const l1Error = new Error('l1 down');
  const l2Error = new Error('l2 down');
  const pending = Promise.resolve(start());
  await failBothLayers(layers, first, l1Error, l2Error);
  expectBothLayersFailed(await rejectionOf(pending), l1Error, l2Error);
}

/** A layer closure that throws `error` synchronously instead of returning a promise. */
export function throwsAtOnce(error: unknown): () => never {
  return () => {
    throw error;
  };
}
