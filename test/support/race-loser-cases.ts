import { expect, it, type Mock } from 'vitest';
import type { Offload } from '../../lib/core/offload.interface';
import { RaceLoser } from '../../lib/policies';
import { FakeOffload } from './fake-offload';
import { flush, observe } from './promise-observation';

type Layer = 'l1' | 'l2';

/** A race policy started on two layers that the test settles by hand. */
export interface StartedRace {
  readonly pending: unknown;
  /** Makes the layer's call succeed: a hit for a read, a stored value for a write. */
  succeed(layer: Layer): void;
  fail(layer: Layer, error: Error): void;
}

/** How the shared cases drive one race policy. */
export interface RaceUnderTest {
  start(loser: RaceLoser, offload: Offload): StartedRace;
  /** What the policy resolves with when `layer` wins. */
  answerWhenWon(layer: Layer): unknown;
  /** The spy of `failOnUnhandledRejections` of the spec file. */
  unhandled: Mock;
}

const WINNERS = [
  ['L1 wins', 'l1', 'l2'],
  ['L2 wins', 'l2', 'l1'],
] as const;

const brokenOffload: Offload = {
  run: () => {
    throw new Error('broken offload');
  },
};

/**
 * The cases every race policy passes about the slower layer's call: whether it is offloaded, dropped, refused
 * by a full offload service or by one that throws, the caller gets the winner's answer, and the loser's late
 * failure never becomes an unhandled rejection. Both layers have started before either answers.
 */
export function itHandlesTheRaceLoser(race: RaceUnderTest): void {
  const runRace = async (loser: RaceLoser, offload: Offload, winner: Layer, late: Layer): Promise<void> => {
    const started = race.start(loser, offload);
    const result = observe(started.pending);
    await flush();
    started.succeed(winner);
    await flush();
    expect(result.current).toEqual({ state: 'resolved', value: race.answerWhenWon(winner) });
    started.fail(late, new Error(`late ${late} failure`));
    await flush();
    expect(race.unhandled).not.toHaveBeenCalled();
  };

  it.each(WINNERS)('hands the loser to the offload service, which sees its late failure (%s)', async (_name, winner, late) => {
    const offload = new FakeOffload();
    await runRace(RaceLoser.Offload, offload, winner, late);
    expect(offload.calls.map((call) => call.kind)).toEqual(['race-loser']);
  });

  it.each(WINNERS)('swallows the late failure of a loser that a full offload service refused (%s)', async (_name, winner, late) => {
    const offload = new FakeOffload(false);
    await runRace(RaceLoser.Offload, offload, winner, late);
    expect(offload.calls).toHaveLength(1);
  });

  it.each(WINNERS)('still answers and swallows the late failure when the offload service throws (%s)', async (_name, winner, late) => {
    await runRace(RaceLoser.Offload, brokenOffload, winner, late);
  });

  it.each(WINNERS)('drops the loser without offloading it and swallows its late failure (%s)', async (_name, winner, late) => {
    const offload = new FakeOffload();
    await runRace(RaceLoser.Drop, offload, winner, late);
    expect(offload.calls).toEqual([]);
  });
}
