/**
 * Whether an L2 hit is copied into L1. The engine performs the copy: with the entry's remaining TTL,
 * without making the caller wait, and reporting (never throwing) its failure.
 *
 * @example
 * LayeredCacheModule.forRoot({ refillPolicy: RefillPolicy.Never });
 */
export const RefillPolicy = {
  /** Copy every L2 hit into L1 (the default), so the next read of the key is served in-process. */
  Always: 'always',
  /** Leave L1 alone; useful when L1 should hold only what this instance wrote itself. */
  Never: 'never',
} as const;
export type RefillPolicy = (typeof RefillPolicy)[keyof typeof RefillPolicy];

