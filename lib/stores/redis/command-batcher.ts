/** How many items one batched command carries at most (keys of an MGET, writes of a script call). */
export const MAX_ITEMS_PER_COMMAND = 512;

/** One item waiting in a {@link CommandBatcher}: it gets its own reply, or the error of the command it went out in. */
export interface BatchedItem {
  /** This item's part of the reply: for a GET the stored text (a string or a Buffer) or `null`. */
  answer(reply: unknown): void;
  fail(error: unknown): void;
}

/**
 * Gathers the commands asked for in one turn of the event loop, up to its `process.nextTick` queue, into one
 * command for all of them (GETs into an MGET, versioned writes into one script call). The tick queue runs
 * only once the microtask queue is empty, so the writes of a loop that awaits each call in turn still go
 * out together. With `firstAtOnce`, the first command of a turn is not held for the tick: it goes out as it
 * would unbatched, and only the ones asked for after it are gathered (reads use this: a lone read, the
 * usual case, then costs nothing extra; writes are all gathered, so that a burst is acknowledged, and
 * announced to other instances, in one piece). The order of the items is kept: each is handed to the
 * client in the order it was asked for.
 * @internal
 */
export class CommandBatcher<Item extends BatchedItem> {
  private pending: Item[] = [];
  /** A flush is scheduled for this turn: items asked for now wait for it. */
  private gathering = false;

  /**
   * @param sendOne Sends one item's own command; resolves with its reply.
   * @param sendMany Sends one command for the items; resolves with an array of one reply per item, in order.
   * @param name What `sendMany` sends, for the error when its reply does not fit (`MGET`).
   * @param firstAtOnce Sends the first item of a turn at once instead of with the others.
   */
  constructor(
    private readonly sendOne: (item: Item) => Promise<unknown>,
    private readonly sendMany: (items: Item[]) => Promise<unknown>,
    private readonly name: string,
    private readonly firstAtOnce = false,
  ) {}

  /** Queues the item for the next `process.nextTick` callback, or sends it now when `firstAtOnce` and it is the first of its turn. */
  enqueue(item: Item): void {
    if (this.gathering) {
      this.pending.push(item);
      return;
    }
    this.gathering = true;
    process.nextTick(this.flush);
    if (this.firstAtOnce) this.one(item);
    else this.pending.push(item);
  }

  private readonly flush = (): void => {
    this.gathering = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    if (batch.length === 1) this.one(batch[0]);
    else for (let start = 0; start < batch.length; start += MAX_ITEMS_PER_COMMAND) this.many(batch.slice(start, start + MAX_ITEMS_PER_COMMAND));
  };

  private one(item: Item): void {
    let reply: Promise<unknown>;
    try {
      reply = this.sendOne(item);
    } catch (error) {
      item.fail(error);
      return;
    }
    reply.then(
      (value) => item.answer(value),
      (error: unknown) => item.fail(error),
    );
  }

  private many(batch: Item[]): void {
    let replies: Promise<unknown>;
    try {
      replies = this.sendMany(batch);
    } catch (error) {
      replies = Promise.reject(error);
    }
    replies.then(
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== batch.length) {
          const error = new TypeError(`${this.name} of ${batch.length} items answered ${Array.isArray(reply) ? `${reply.length} values` : typeof reply}`);
          for (const item of batch) item.fail(error);
          return;
        }
        for (let index = 0; index < batch.length; index++) batch[index].answer(reply[index]);
      },
      (error: unknown) => {
        for (const item of batch) item.fail(error);
      },
    );
  }
}
