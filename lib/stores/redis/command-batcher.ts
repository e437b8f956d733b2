/** How many items one batched command carries at most (keys of an MGET, writes of a script call). */
export const MAX_ITEMS_PER_COMMAND = 512;

/** One item waiting in a {@link CommandBatcher}: it gets its own reply, or the error of the command it went out in. */
export interface BatchedItem {
  /** This item's part of the reply: for a GET the stored text (a string or a Buffer) or `null`. */
  answer(reply: unknown): void;
  fail(error: unknown): void;
}

/**
 * Sends the first command asked for in a turn of the event loop at once, and gathers the ones asked for
 * after it, up to the turn's `process.nextTick` queue, into one command for all of them (GETs into an MGET,
 * versioned writes into one script call). A lone command therefore goes out exactly as it would unbatched,
 * and a burst costs two commands. The tick queue runs only once the microtask queue is empty, so the writes
 * of a loop that awaits each call in turn still go out together. The order of the items is kept: each is
 * handed to the client in the order it was asked for.
 * @internal
 */
export class CommandBatcher<Item extends BatchedItem> {
  private pending: Item[] = [];
  /** An item went out on its own in this turn: the next ones wait for the tick that sends them together. */
  private gathering = false;

  /**
   * @param sendOne Sends one item's own command; resolves with its reply.
   * @param sendMany Sends one command for the items; resolves with an array of one reply per item, in order.
   * @param name What `sendMany` sends, for the error when its reply does not fit (`MGET`).
   */
  constructor(
    private readonly sendOne: (item: Item) => Promise<unknown>,
    private readonly sendMany: (items: Item[]) => Promise<unknown>,
    private readonly name: string,
  ) {}

  /** Sends the item now when it is the first of its turn, else queues it for the next `process.nextTick` callback. */
  enqueue(item: Item): void {
    if (this.gathering) {
      this.pending.push(item);
      return;
    }
    this.gathering = true;
    process.nextTick(this.flush);
    this.one(item);
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
