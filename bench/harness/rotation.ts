import type { Candidate } from './candidate';
import { type CandidateRounds, type InterleaveOptions, warmUp } from './interleave';
import type { SampleStats } from './sampling';
import { shuffle } from './shuffle';
import { statsOf } from './statistics';

/**
 * Measures candidates call by call in rotation: one call of each candidate in turn, in a new random order
 * every time, `callsPerRound` calls each per round. Each call is timed on its own with `performance.now()`,
 * between its candidate's untimed `prepare` and `settle`, so that no call's background work (an offloaded
 * write, a reply still on its way) lands in another candidate's timed call.
 *
 * Scenarios whose calls wait for a Redis round trip use it instead of mitata's back-to-back blocks: on a
 * shared machine the round trip drifts by tens of percent within a few hundred milliseconds, and a block of
 * one candidate's calls then sees a different machine than the block of its floor. Calls in rotation see the
 * same machine, so the ratios measure the libraries rather than the drift. The calls are awaited one after
 * the other, as mitata awaits them.
 */
export async function measureInRotation(candidates: readonly Candidate[], options: InterleaveOptions & { readonly callsPerRound: number }): Promise<CandidateRounds[]> {
  const { callsPerRound } = options;
  for (const candidate of candidates) await warmUp(candidate);
  const rounds = candidates.map((): SampleStats[] => []);
  const times = candidates.map(() => new Float64Array(callsPerRound));
  const order = candidates.map((_, index) => index);
  for (let round = 0; round < options.rounds; round++) {
    for (let call = 0; call < callsPerRound; call++) {
      shuffle(order);
      for (const index of order) {
        const candidate = candidates[index];
        const prepared = candidate.prepare?.();
        if (prepared instanceof Promise) await prepared;
        const started = performance.now();
        const result = candidate.run();
        if (result instanceof Promise) await result;
        times[index][call] = (performance.now() - started) * 1e6;
        await candidate.settle?.();
      }
    }
    for (let index = 0; index < candidates.length; index++) rounds[index].push(statsOf(times[index]));
    options.log(`    pass ${round + 1}/${options.rounds} done`);
  }
  return candidates.map((candidate, index) => ({ candidate, rounds: rounds[index] }));
}
