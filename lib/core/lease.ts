/**
 * A shared layer that hands out leases: short-lived, exclusive claims on a key, which let one instance
 * among many load a missing value while the others wait for it (`singleFlight: 'distributed'`). A lease
 * expires by itself, so a holder that dies releases it after its TTL.
 */
export interface LeaseSource {
  /**
   * Takes the lease named `lease` for `ttlMs` milliseconds under `token`, unless another holder has it.
   * Resolves with 0 when taken, else with the milliseconds the other holder's lease has left (at least 1).
   */
  tryLease(lease: string, token: string, ttlMs: number): Promise<number>;
  /** Gives the lease back, when `token` still holds it. */
  releaseLease(lease: string, token: string): Promise<void>;
}

/** True for stores that hand out leases. */
export function isLeaseSource(store: unknown): store is LeaseSource {
  const candidate = store as Partial<LeaseSource> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.tryLease === 'function' && typeof candidate.releaseLease === 'function';
}
