import type IoRedis from 'ioredis';
import type { NodeRedisClient } from './environment/redis';
import type { SamplingProfile } from './harness/sampling';
import type { CachePeer } from './peers';
import type { OurCache } from './subjects/our-cache';

/** What every scenario gets: the connections, this library, the peers and the run's settings. */
export interface BenchContext {
  /** Every Redis key written starts with it. */
  readonly prefix: string;
  /** The namespace of our cache (`prefix` + `layered`); our keys are `namespace:key`. */
  readonly namespace: string;
  readonly rounds: number;
  /** Shorter measurements, for a quick look; figures are noisier. */
  readonly quick: boolean;
  readonly log: (line: string) => void;
  readonly nodeRedis: NodeRedisClient;
  readonly ioRedis: IoRedis;
  readonly ioRedisPipelined: IoRedis;
  readonly ours: OurCache;
  readonly peers: readonly CachePeer[];
}

/** `profile` with its time budget cut for quick runs. */
export function scaled(context: BenchContext, profile: SamplingProfile): SamplingProfile {
  return context.quick ? { ...profile, budgetMs: Math.max(20, profile.budgetMs / 4), maxSamples: Math.max(12, profile.maxSamples >> 2) } : profile;
}
