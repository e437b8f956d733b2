import { LayeredCacheError } from '../core/errors.js';
import { type InvalidationBus, type InvalidationMode, isInvalidationSource } from '../core/invalidation.js';
import { INVALID_INVALIDATION_OPTION, INVALIDATION_NEEDS_REDIS } from '../core/messages.js';
import type { CacheStore } from '../stores/cache-store.interface.js';

/**
 * How instances that share an L2 invalidate each other's L1 copies: a mode of the L2 store (`RedisStore`
 * carries `'tracking'` and `'pubsub'`; `'auto'` picks tracking where Redis allows it), a bus of your own,
 * or `false` for none. Default: `'auto'` with an L2 that can carry it, else none.
 */
export type InvalidationOption = InvalidationMode | InvalidationBus | false;

const MODES: readonly string[] = ['auto', 'tracking', 'pubsub'] satisfies InvalidationMode[];

/** The bus the option asks for over `l2`, or `null` for none. @throws LayeredCacheError for an option that cannot be honoured. */
export function invalidationBusFor(option: InvalidationOption | undefined, l2: CacheStore | null | undefined): InvalidationBus | null {
  if (option === false) return null;
  if (l2 === null || l2 === undefined) {
    // Without a shared layer there is nothing another instance could change; only a Redis mode asked for by name is a mistake.
    if (option === undefined || option === 'auto') return null;
    if (option === 'tracking' || option === 'pubsub') throw new LayeredCacheError(INVALIDATION_NEEDS_REDIS(option, 'absent'));
    return busOf(option);
  }
  if (option === undefined) return isInvalidationSource(l2) ? l2.createInvalidationBus('auto') : null;
  if (typeof option === 'string') {
    if (!MODES.includes(option)) throw new LayeredCacheError(INVALID_INVALIDATION_OPTION(JSON.stringify(option)));
    if (!isInvalidationSource(l2)) throw new LayeredCacheError(INVALIDATION_NEEDS_REDIS(option, describeStore(l2)));
    return l2.createInvalidationBus(option);
  }
  return busOf(option);
}

function busOf(option: unknown): InvalidationBus {
  const bus = option as Partial<InvalidationBus> | null;
  if (typeof bus === 'object' && bus !== null && typeof bus.start === 'function' && typeof bus.close === 'function') return bus as InvalidationBus;
  throw new LayeredCacheError(INVALID_INVALIDATION_OPTION(typeof option === 'string' ? JSON.stringify(option) : typeof option));
}

function describeStore(store: CacheStore): string {
  const name = (Object.getPrototypeOf(store) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'a custom CacheStore';
}
