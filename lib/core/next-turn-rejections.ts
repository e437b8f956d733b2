import { callEach } from './call-each.js';
import { NextTurn } from './next-turn.js';

/**
 * Rejections settled on the next turn of the event loop, all together, rather than at once. A call that
 * fails without any I/O (a circuit breaker's refusal) would otherwise settle in the microtask queue, and a
 * loop of such calls would never let timers run, the library's own retries and time limits included.
 */
export class NextTurnRejections {
  private pending: (() => void)[] = [];
  private readonly turn = new NextTurn(() => {
    const due = this.pending;
    this.pending = [];
    callEach(due, (settle) => settle());
  });

  /** A promise that rejects with `error` on the next turn of the event loop. */
  reject<R>(error: unknown): Promise<R> {
    return new Promise<R>((_, reject) => {
      this.pending.push(() => reject(error));
      this.turn.request();
    });
  }
}
