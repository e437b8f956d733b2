import type IoRedis from 'ioredis';
import type { NodeRedisClient } from './environment/redis';
import type { InterleaveOptions } from './harness/interleave';
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

/** A sampling profile and the number of interleaved rounds to measure it over. */
export interface RoundsAndProfile extends InterleaveOptions {
  readonly profile: SamplingProfile;
}

/**
 * The run's rounds and `profile` (scaled for quick runs), with each round cut into `slices` shorter ones:
 * the same measuring time, interleaved more finely between the candidates, because on a shared machine a
 * slow patch of a few hundred milliseconds would otherwise fall on one candidate of a round and skew that
 * round's ratios.
 */
export function slicedRounds(context: BenchContext, profile: SamplingProfile, slices: number): RoundsAndProfile {
  const whole = scaled(context, profile);
  return {
    rounds: context.rounds * slices,
    profile: { ...whole, budgetMs: whole.budgetMs / slices, maxSamples: Math.max(12, Math.ceil(whole.maxSamples / slices)) },
    log: context.log,
  };
}

/** How many rounds, and calls of each candidate per round, a scenario measured with `measureInRotation` takes. */
export interface RotationMeasurement extends InterleaveOptions {
  readonly callsPerRound: number;
}

/** Four short rounds for each of the run's rounds: ratios are taken per round, then their median. */
export function rotationRounds(context: BenchContext): RotationMeasurement {
  return { rounds: context.rounds * 4, callsPerRound: context.quick ? 60 : 150, log: context.log };
}
