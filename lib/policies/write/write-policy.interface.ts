import type { PromiseOrValue } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';

/**
 * Writes one layer; receives the key so that one closure can serve many calls. An in-process layer is
 * written at once (nothing returned), a remote one returns a promise; a failure throws or rejects (the
 * closure has already reported it).
 */
export type LayerWrite = (key: string) => PromiseOrValue<void>;

/**
 * Decides how a write travels across the two layers. It owns control flow only: the closures do the I/O
 * (and report their own failures), so the same policy works for any layer pair, nested ones included.
 * The cache calls `execute` for every write, awaited or in the background. Returning nothing when every
 * layer it waited for was written at once keeps an in-process write free of promises; returning a promise
 * is always allowed. The built-in policies report failures by rejecting, never by throwing.
 */
export interface WritePolicy {
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): PromiseOrValue<void>;
}
