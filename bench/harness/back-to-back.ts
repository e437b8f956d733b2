import type { Candidate } from './candidate';
import { type CandidateRounds, type InterleaveOptions, warmUp } from './interleave';
import type { SampleStats } from './sampling';
import { shuffle } from './shuffle';
import { statsOf } from './statistics';

/** How calls timed back to back are grouped: rounds of blocks, `callsPerBlock` timed calls of one candidate per block. */
export interface BackToBackMeasurement extends InterleaveOptions {
  /** Timed calls of each candidate per round, rounded up to whole blocks. */
  readonly callsPerRound: number;
  readonly callsPerBlock: number;
}

/**
 * Measures candidates as an application calls them in a loop: within a block, one candidate's calls are
 * awaited one after the other with nothing in between, and each call is timed from the end of the call
 * before it, so whatever a call leaves behind (a refill, a continuation, a reply still being parsed) is paid
 * by the next one, as it would be in the loop. Each block starts with one untimed call, so that every timed
 * call follows a call of its own candidate rather than the block's preparation. A candidate's `prepare`
 * runs once before each block (not before each call) and `settle` once after it.
 *
 * Blocks rotate between the candidates in a new random order every time, as calls do in `measureInRotation`:
 * a block of a few milliseconds sees the same machine as the blocks of its floors around it.
 */
export async function measureBackToBack(candidates: readonly Candidate[], options: BackToBackMeasurement): Promise<CandidateRounds[]> {
  const { callsPerBlock } = options;
  const blocks = Math.ceil(options.callsPerRound / callsPerBlock);
  for (const candidate of candidates) await warmUp(candidate);
  const rounds = candidates.map((): SampleStats[] => []);
  const times = candidates.map(() => new Float64Array(blocks * callsPerBlock));
  const order = candidates.map((_, index) => index);
  for (let round = 0; round < options.rounds; round++) {
    for (let block = 0; block < blocks; block++) {
      shuffle(order);
      for (const index of order) {
        const candidate = candidates[index];
        const prepared = candidate.prepare?.();
        if (prepared instanceof Promise) await prepared;
        const leadIn = candidate.run();
        if (leadIn instanceof Promise) await leadIn;
        const blockTimes = times[index];
        let previous = performance.now();
        for (let call = block * callsPerBlock, end = call + callsPerBlock; call < end; call++) {
          const result = candidate.run();
          if (result instanceof Promise) await result;
          const now = performance.now();
          blockTimes[call] = (now - previous) * 1e6;
          previous = now;
        }
        await candidate.settle?.();
      }
    }
    for (let index = 0; index < candidates.length; index++) rounds[index].push(statsOf(times[index]));
    options.log(`    pass ${round + 1}/${options.rounds} done`);
  }
  return candidates.map((candidate, index) => ({ candidate, rounds: rounds[index] }));
}
