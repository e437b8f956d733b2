/** How many keys one MGET asks for at most; larger bursts are split. */
export const MAX_KEYS_PER_MGET = 512;

/** One read waiting in a {@link GetBatcher}: it gets its own reply, or the error of the command it went out in. */
export interface BatchedGet {
  readonly key: string;
  /** The client's reply for this key: the stored text (a string or a Buffer), or `null`. */
  answer(reply: unknown): void;
  fail(error: unknown): void;
}

/**
 * Batches the GETs asked for within one run of the microtask queue into one MGET. Concurrent reads (many
 * requests reading the cache at once) then cost Redis and the client one command instead of one each; a
 * lone read is still sent as a plain GET, in the same turn of the event loop, so it waits no longer.
 * @internal
 */
export class GetBatcher {
  private pending: BatchedGet[] = [];

  constructor(
    private readonly getOne: (key: string) => Promise<unknown>,
    private readonly getMany: (keys: string[]) => Promise<unknown>,
  ) {}

  /** Queues a read; it is sent once the current run of the microtask queue is over. */
  enqueue(read: BatchedGet): void {
    if (this.pending.length === 0) queueMicrotask(this.flush);
    this.pending.push(read);
  }

  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) this.sendOne(batch[0]);
    else for (let start = 0; start < batch.length; start += MAX_KEYS_PER_MGET) this.sendMany(batch.slice(start, start + MAX_KEYS_PER_MGET));
  };

  private sendOne(read: BatchedGet): void {
    let reply: Promise<unknown>;
    try {
      reply = this.getOne(read.key);
    } catch (error) {
      read.fail(error);
      return;
    }
    reply.then(
      (value) => read.answer(value),
      (error: unknown) => read.fail(error),
    );
  }

  private sendMany(batch: BatchedGet[]): void {
    let replies: Promise<unknown>;
    try {
      replies = this.getMany(batch.map((read) => read.key));
    } catch (error) {
      replies = Promise.reject(error);
    }
    replies.then(
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== batch.length) {
          const error = new TypeError(`MGET of ${batch.length} keys answered ${Array.isArray(reply) ? `${reply.length} values` : typeof reply}`);
          for (const read of batch) read.fail(error);
          return;
        }
        for (let index = 0; index < batch.length; index++) batch[index].answer(reply[index]);
      },
      (error: unknown) => {
        for (const read of batch) read.fail(error);
      },
    );
  }
}
