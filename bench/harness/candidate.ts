/** The libraries measured next to ours, configured the way their documentation recommends. */
export type PeerName = 'BentoCache' | 'cache-manager' | 'cacheable';

export const PEER_NAMES: readonly PeerName[] = ['BentoCache', 'cache-manager', 'cacheable'];

/** A floor is the least work the operation needs; a subject is this library; a peer is another library. */
export type Role = 'floor' | 'subject' | 'peer';

/** One thing measured in a scenario. */
export interface Candidate {
  readonly name: string;
  readonly role: Role;
  /** The peer library, for peers. */
  readonly peer?: PeerName;
  /** Subjects are compared with the peers' candidates of the same operation (`get`, `getOrSet`, `set`). */
  readonly operation?: string;
  /** One call: an operation, or a whole batch for throughput scenarios. */
  readonly run: () => unknown;
  /** Untimed work before every call (an L1 eviction, a turn of the event loop); before every block of calls timed back to back. */
  readonly prepare?: () => unknown;
  /** Untimed work after each measurement (waiting for background writes to finish); after every block of calls timed back to back. */
  readonly settle?: () => Promise<void>;
}
