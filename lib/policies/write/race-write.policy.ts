import type { CacheLayer } from '../../core/errors';
import { BothLayersFailedError } from '../../core/errors';
import { NextTurn } from '../../core/next-turn';
import type { Offload } from '../../offload/offload.interface';
import { RaceLoser } from '../race-loser';
import { startLayerCall } from '../start-layer-call';
import type { LayerBackgroundWrite, LayerWrite, WritePolicy } from './write-policy.interface';

/** Where the L2 write of one race stands. */
type L2WriteState = 'not-started' | 'racing' | 'offloaded' | 'unobserved';

const ignore = (): void => undefined;

/**
 * Writes both layers and resolves as soon as the first one succeeds; the slower write (the loser) is handed
 * to the offload service (`RaceLoser.Offload`, the default) or left to finish unobserved (`RaceLoser.Drop`).
 * If the first layer to settle failed, the policy waits for the other: its success resolves, its failure
 * rejects with {@link BothLayersFailedError}. A resolved write therefore promises only that one layer holds
 * the value.
 *
 * L1 gets the first turn, as in hitbox, where the race polls L1 before L2: the L2 write starts on the next
 * turn of the event loop unless L1 has succeeded by then. With an in-process L1 it has, so the L2 write
 * (serializing the value and sending it) never runs in the caller's turn: it is the loser before it starts.
 * When the cache offers `writeL2InBackground` (it does unless the call has its own time limit), such a loser
 * goes out with the other background L2 writes, in one batch, whichever the loser setting; otherwise the
 * offload service starts it (or, with `Drop` or a full offload queue, it starts unobserved). An L1 that fails
 * or is still pending by then does not hold L2 back. Since that is all the race does when an in-process L1
 * takes the value at once, the cache does it without calling `execute` (see `settlesOnL1Success`).
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new RaceWritePolicy(RaceLoser.Drop) });
 */
export class RaceWritePolicy implements WritePolicy {
  readonly settlesOnL1Success = true;
  readonly writesL2AfterL1Success = true;
  /** L2 writes to start on the next turn unless their L1 write has succeeded by then; one immediate serves them all. */
  private waitingL2Starts: (() => void)[] = [];
  private readonly nextTurn = new NextTurn(() => this.startWaitingL2Writes());

  constructor(readonly loser: RaceLoser = RaceLoser.Offload) {}

  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload, writeL2InBackground?: LayerBackgroundWrite): Promise<void> {
    const l1 = startLayerCall(writeL1, key);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let l2: Promise<void> | undefined;
      let l2State: L2WriteState = 'not-started';
      let firstFailure: { readonly layer: CacheLayer; readonly error: unknown } | undefined;

      const onSettled = (layer: CacheLayer, failed: boolean, error: unknown): void => {
        // After the outcome is decided, the other layer is the loser: its result must not reach the caller.
        if (done) return;
        if (!failed) {
          done = true;
          resolve();
          // A recorded failure means the other layer already settled, so there is nothing left to hand off.
          if (firstFailure !== undefined) return;
          const racing = layer === 'l2' ? l1 : l2;
          if (racing === undefined && writeL2InBackground !== undefined) {
            // L2 had not started: with either loser setting, it goes out with the other background writes.
            l2State = 'offloaded';
            writeL2InBackground(key);
            return;
          }
          if (this.loser !== RaceLoser.Offload) return;
          // A started loser is already observed: a refused hand-off (service full) needs no action. One not
          // started yet that the service refuses is started on the next turn, unobserved.
          if (racing !== undefined) this.handOff(() => racing, offload);
          else if (this.handOff(() => startLayerCall(writeL2, key), offload)) l2State = 'offloaded';
          return;
        }
        if (firstFailure === undefined) {
          firstFailure = { layer, error };
          if (layer === 'l1') startL2();
          return;
        }
        done = true;
        reject(layer === 'l1' ? new BothLayersFailedError(error, firstFailure.error) : new BothLayersFailedError(firstFailure.error, error));
      };

      const startL2 = (): void => {
        if (l2State !== 'not-started') return;
        if (done) {
          // L1 won before L2 started, and the offload service did not take the write (or, with Drop, was not
          // asked to): it still runs, unobserved.
          l2State = 'unobserved';
          startLayerCall(writeL2, key).then(ignore, ignore);
          return;
        }
        l2State = 'racing';
        const started = startLayerCall(writeL2, key);
        l2 = started;
        // Observed from here on, so a loser's later rejection is never unhandled, whatever the offload service does with it.
        started.then(
          () => onSettled('l2', false, undefined),
          (error: unknown) => onSettled('l2', true, error),
        );
      };

      l1.then(
        () => onSettled('l1', false, undefined),
        (error: unknown) => onSettled('l1', true, error),
      );
      this.waitingL2Starts.push(startL2);
      this.nextTurn.request();
    });
  }

  private startWaitingL2Writes(): void {
    const waiting = this.waitingL2Starts;
    if (waiting.length === 0) return;
    this.waitingL2Starts = [];
    for (const start of waiting) start();
  }

  /** Hands a loser to the offload service; false when the service refused it. */
  private handOff(loser: () => Promise<void>, offload: Offload): boolean {
    try {
      // No dedup key: two losers for one key are two different writes, and drain must wait for both.
      return offload.run('race-loser', loser);
    } catch {
      // `run` must not throw; if a custom Offload does, the caller already has its answer, and letting the
      // throw escape would only become an unhandled rejection.
      return false;
    }
  }
}
