/**
 * What a read that is still waiting for a layer holds: it becomes `stale` when a write, delete or clear of
 * its key is issued before the read ends, and the read must then not copy what it found into another layer.
 * @internal
 */
export interface ReadTicket {
  stale: boolean;
  readers: number;
}

/**
 * The keys of reads (and `getOrSet` loads) that are waiting for a layer, so that a write issued meanwhile can
 * mark them stale: an L2 reply that comes after a newer local write or delete must not refill L1 with the
 * value it replaced, and a value loaded before a write must not be written back after it. Only reads that
 * wait hold a ticket; a read answered at once (an in-process hit) never does, so it costs nothing.
 * @internal
 */
export class InFlightReads {
  private readonly tickets = new Map<string, ReadTicket>();

  /** A ticket for a read of `key` that has to wait; pass it to `end` when the read is over. */
  begin(key: string): ReadTicket {
    let ticket = this.tickets.get(key);
    if (ticket === undefined) {
      ticket = { stale: false, readers: 0 };
      this.tickets.set(key, ticket);
    }
    ticket.readers++;
    return ticket;
  }

  end(key: string, ticket: ReadTicket): void {
    if (--ticket.readers === 0 && this.tickets.get(key) === ticket) this.tickets.delete(key);
  }

  /** A write or delete of `key` was issued: the reads waiting for it are stale. */
  invalidate(key: string): void {
    if (this.tickets.size === 0) return;
    const ticket = this.tickets.get(key);
    if (ticket === undefined) return;
    ticket.stale = true;
    this.tickets.delete(key);
  }

  /** A clear of the keys under `prefix` (every key when `undefined`) was issued. */
  invalidatePrefix(prefix: string | undefined): void {
    for (const [key, ticket] of this.tickets) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      ticket.stale = true;
      this.tickets.delete(key);
    }
  }
}
