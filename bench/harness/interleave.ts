import type { Candidate } from './candidate';
import { type SampleStats, type SamplingProfile, sample } from './sampling';
import { shuffle } from './shuffle';

/** Every round's measurement of one candidate. */
export interface CandidateRounds {
  readonly candidate: Candidate;
  readonly rounds: readonly SampleStats[];
}

/** How many rounds, and what to say while measuring. */
export interface InterleaveOptions {
  readonly rounds: number;
  readonly log: (line: string) => void;
}

const WARMUP_MS = 40;
const WARMUP_MAX_CALLS = 2_000;

/**
 * Measures every candidate once per round, in a new random order each round, so that a slow patch of a
 * shared machine falls on all of them rather than on one, and no candidate always follows the same one
 * (and inherits what it leaves behind). Ratios are then taken per round.
 */
export async function measureInterleaved(candidates: readonly Candidate[], profile: SamplingProfile, options: InterleaveOptions): Promise<CandidateRounds[]> {
  for (const candidate of candidates) await warmUp(candidate);
  const rounds = candidates.map((): SampleStats[] => []);
  for (let round = 0; round < options.rounds; round++) {
    for (const index of shuffle(candidates.map((_, position) => position))) {
      const candidate = candidates[index];
      rounds[index].push(await sample(candidate.run, candidate.prepare, profile));
      await candidate.settle?.();
    }
    options.log(`    pass ${round + 1}/${options.rounds} done`);
  }
  return candidates.map((candidate, index) => ({ candidate, rounds: rounds[index] }));
}

/** Runs a candidate for a short while, so that every code path it takes is compiled before it is timed. */
export async function warmUp(candidate: Candidate): Promise<void> {
  const deadline = performance.now() + WARMUP_MS;
  for (let call = 0; call < WARMUP_MAX_CALLS && performance.now() < deadline; call++) {
    const prepared = candidate.prepare?.();
    if (prepared instanceof Promise) await prepared;
    await candidate.run();
  }
  await candidate.settle?.();
}
