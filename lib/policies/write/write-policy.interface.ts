import type { Offload } from '../../offload/offload.interface';

/** Writes one layer; receives the key so that one closure can serve many calls. */
export type LayerWrite = (key: string) => Promise<void>;

/**
 * Decides how a write travels across the two layers. It owns control flow only: the closures do the I/O
 * (and report their own failures), so the same policy works for any layer pair, nested ones included.
 */
export interface WritePolicy {
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): Promise<void>;
}

/** DI token of the write policy. */
export const WRITE_POLICY: unique symbol = Symbol('WRITE_POLICY');
