/** How many keys one MGET asks for at most; larger bursts are split. */
export const MAX_KEYS_PER_MGET = 512;

interface PendingGet {
  readonly key: string;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Batches the GETs asked for within one run of the microtask queue into one MGET. Concurrent reads (many
 * requests reading the cache at once) then cost Redis and the client one command instead of one each; a
 * lone read is still sent as a plain GET, in the same turn of the event loop as before, so it waits no
 * longer. Every read resolves with its own reply, or rejects with the batch's error.
 * @internal
 */
export class GetBatcher {
  private pending: PendingGet[] = [];

  constructor(
    private readonly getOne: (key: string) => Promise<unknown>,
    private readonly getMany: (keys: string[]) => Promise<unknown>,
  ) {}

  /** The reply to `GET key`: the stored text (a string or a Buffer), or `null`. */
  get(key: string): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.pending.length === 0) queueMicrotask(this.flush);
      this.pending.push({ key, resolve, reject });
    });
  }

  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) {
      const only = batch[0];
      try {
        this.getOne(only.key).then(only.resolve, only.reject);
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    for (let start = 0; start < batch.length; start += MAX_KEYS_PER_MGET) {
      this.sendMany(batch.slice(start, start + MAX_KEYS_PER_MGET));
    }
  };

  private sendMany(batch: PendingGet[]): void {
    let replies: Promise<unknown>;
    try {
      replies = this.getMany(batch.map((pending) => pending.key));
    } catch (error) {
      replies = Promise.reject(error);
    }
    replies.then(
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== batch.length) {
          const error = new TypeError(`MGET of ${batch.length} keys answered ${Array.isArray(reply) ? `${reply.length} values` : typeof reply}`);
          for (const pending of batch) pending.reject(error);
          return;
        }
        for (let index = 0; index < batch.length; index++) batch[index].resolve(reply[index]);
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
      },
    );
  }
}
