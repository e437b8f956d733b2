import type { PeerName } from '../harness/candidate';

/** What the scenarios need from a peer library: its public cache calls plus a handle on its L1. */
export interface CachePeer {
  readonly name: PeerName;
  /** How it is configured, in the words of its documentation. */
  readonly configuration: string;
  get(key: string): Promise<unknown>;
  /** The peer's read-through call (`getOrSet` or `wrap`). */
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  /** Removes `key` from L1 only, so that the next read is served by L2. */
  evictL1(key: string): Promise<unknown>;
  /** Empties L1 only. */
  clearL1(): Promise<unknown>;
  /** How many of `keys` L1 holds now. */
  countL1(keys: readonly string[]): Promise<number>;
  close(): Promise<void>;
}
