/**
 * Runs one callback on the next turn of the event loop (`setImmediate`), once however many times it is
 * requested before that turn comes, so that a burst of requests costs one immediate.
 *
 * A request made while one is pending is dropped, so a pending request that is lost would stall every
 * later one. The only way to lose it is to swap the timer functions before the turn comes (fake timers
 * installed or removed in a test discard what they scheduled), so a request made with different timer
 * functions than the pending one is scheduled again with the current ones. The callback must tolerate an
 * extra run.
 *
 * @example
 * const pump = new NextTurn(() => startQueuedTasks());
 * pump.request(); pump.request(); // startQueuedTasks runs once, on the next turn
 */
export class NextTurn {
  /** The `setImmediate` the pending request was made with; `undefined` when none is pending. */
  private pendingWith: typeof setImmediate | undefined;

  constructor(private readonly callback: () => void) {}

  /** Asks for a run of the callback on the next turn. */
  request(): void {
    const schedule = globalThis.setImmediate;
    if (this.pendingWith === schedule) return;
    this.pendingWith = schedule;
    schedule(this.run);
  }

  private readonly run = (): void => {
    this.pendingWith = undefined;
    this.callback();
  };
}
