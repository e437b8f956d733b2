import { callEach } from './call-each.js';

/** Instances with a run requested for the next turn, in request order. */
let requested: NextTurn[] = [];
/** The `setImmediate` the pending turn was scheduled with; `undefined` when none is pending. */
let scheduledWith: typeof setImmediate | undefined;

const runNow = (next: NextTurn): void => next.runNow();

function runRequested(): void {
  scheduledWith = undefined;
  const batch = requested;
  requested = [];
  callEach(batch, runNow);
}

/**
 * Runs one callback on the next turn of the event loop, once however many times it is requested before that
 * turn comes. All instances share one `setImmediate` per turn, so a burst of requests across the library
 * (offloaded tasks, race writes waiting for L1) costs one immediate.
 *
 * A request made while one is pending is dropped, so a pending turn that is lost would stall every later
 * request. The only way to lose it is to swap the timer functions before the turn comes (fake timers
 * installed or removed in a test discard what they scheduled), so a request made with other timer functions
 * than the pending turn's schedules the turn again with the current ones. Callbacks must tolerate an extra run.
 *
 * @example
 * const pump = new NextTurn(() => startQueuedTasks());
 * pump.request(); pump.request(); // startQueuedTasks runs once, on the next turn
 */
export class NextTurn {
  private pending = false;

  constructor(private readonly callback: () => void) {}

  /** Asks for a run of the callback on the next turn. */
  request(): void {
    if (!this.pending) {
      this.pending = true;
      requested.push(this);
    }
    const schedule = globalThis.setImmediate;
    if (scheduledWith === schedule) return;
    scheduledWith = schedule;
    schedule(runRequested);
  }

  /** @internal Called by the shared turn. */
  runNow(): void {
    this.pending = false;
    this.callback();
  }
}
