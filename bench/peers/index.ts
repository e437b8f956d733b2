import { createBentoCachePeer } from './bentocache.peer';
import { createCacheManagerPeer } from './cache-manager.peer';
import type { CachePeer } from './cache-peer';
import { createCacheablePeer } from './cacheable.peer';

export type { CachePeer } from './cache-peer';

/** One instance of each peer library, writing under `prefix`. */
export function createPeers(prefix: string): CachePeer[] {
  return [createBentoCachePeer(prefix), createCacheManagerPeer(prefix), createCacheablePeer(prefix)];
}
