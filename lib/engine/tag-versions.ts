import { createCacheEntry } from '../core/cache-entry.js';
import { LayeredCacheError } from '../core/errors.js';
import { INVALID_TAGS } from '../core/messages.js';
import { type PromiseOrValue, isPromiseLike } from '../core/promise-or-value.js';
import type { LayeredStore } from './layered-store.js';

/** Where a tag's version is kept in L2: under the cache's prefix (so invalidation hears of it), where no key a cache builds can be. */
const TAG_MARK = '\u0000tag:';

/** The L2 key of `tag` for a cache whose keys start with `prefix`. */
export function tagKeyOf(prefix: string, tag: string): string {
  return `${prefix}${TAG_MARK}${tag}`;
}

/** Checks a `tags` option: a list of non-empty strings. */
export function validTags(tags: unknown): readonly string[] {
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string' && tag !== '')) throw new LayeredCacheError(INVALID_TAGS(tags));
  return tags as readonly string[];
}

/**
 * The versions of the tags of one cache. `invalidateTags` gives each tag a new version (from the cache's
 * clock) and writes it to L2, where every instance reads it; an entry records the versions its tags had when
 * its value was made, and is stale once one differs. Versions read from L2 are kept here while the
 * invalidation bus can tell of changes made elsewhere (then a tagged hit costs no round trip); without a
 * bus, every check reads them again. A version not known yet counts as `''` for a value being made (which
 * can only make the entry stale early, never fresh late) and is read in the background for the next one.
 * @internal
 */
export class TagVersions {
  /**
   * The last version known of each tag; `trusted` until a change of the tag elsewhere may have been heard
   * of (it may be this instance's own write coming back), then read again before a hit relies on it. An
   * untrusted version is still right to record for a value made now: versions only grow, so it can only
   * make the entry stale early.
   */
  private readonly known = new Map<string, { version: string; trusted: boolean }>();
  private readonly reading = new Map<string, Promise<string>>();

  /** @param keepsVersions Whether versions read from L2 may be kept (an invalidation bus, or no L2 to read). */
  constructor(
    private readonly store: LayeredStore,
    private readonly prefix: string,
    private readonly keepsVersions: boolean,
  ) {}

  /** The versions to record for a value made now, at once: `''` for the ones not known yet, which are read for next time. */
  versionsNow(tags: readonly string[]): Record<string, string> {
    const versions: Record<string, string> = {};
    for (const tag of tags) {
      const known = this.known.get(tag);
      versions[tag] = known?.version ?? '';
      if (known === undefined || !known.trusted) void this.read(tag).catch(() => undefined);
    }
    return versions;
  }

  /** True while every tag still has the version recorded; at once when all are known. A tag that cannot be read counts as changed. */
  isFresh(recorded: Readonly<Record<string, string>>): PromiseOrValue<boolean> {
    let pending: Promise<boolean>[] | undefined;
    for (const tag in recorded) {
      const known = this.keepsVersions ? this.known.get(tag) : undefined;
      if (known === undefined || !known.trusted) (pending ??= []).push(this.read(tag).then((version) => version === recorded[tag], () => false));
      else if (known.version !== recorded[tag]) return false;
    }
    if (pending === undefined) return true;
    return Promise.all(pending).then((fresh) => fresh.every(Boolean));
  }

  /** Gives every tag a new version, here at once and in L2 for the other instances; rejects when L2 refused it. */
  invalidate(tags: readonly string[]): Promise<void> {
    const version = this.store.clock.next();
    const writes: Promise<void>[] = [];
    for (const tag of tags) {
      this.known.set(tag, { version, trusted: true });
      this.reading.delete(tag);
      if (this.store.l2 === null) continue;
      const written = this.store.writeShared(tagKeyOf(this.prefix, tag), createCacheEntry(version, undefined, Date.now(), version));
      if (isPromiseLike(written)) writes.push(Promise.resolve(written));
    }
    return Promise.all(writes).then(() => undefined);
  }

  /**
   * A key changed elsewhere (`undefined`: any key may have): a tag's version read before is no longer trusted.
   * Wired to the invalidation bus.
   */
  changedElsewhere(key: string | undefined): void {
    if (this.store.l2 === null) return;
    if (key === undefined) {
      for (const known of this.known.values()) known.trusted = false;
      return;
    }
    const at = key.indexOf(TAG_MARK);
    if (at === -1 || !key.startsWith(this.prefix)) return;
    const tag = key.slice(at + TAG_MARK.length);
    const known = this.known.get(tag);
    if (known !== undefined) known.trusted = false;
    // A read under way began before this change: its answer must not be trusted either.
    this.reading.delete(tag);
  }

  /** The version of `tag` in L2 (`''` for a tag never invalidated), kept when versions may be kept. */
  private read(tag: string): Promise<string> {
    if (this.store.l2 === null) return Promise.resolve(this.known.get(tag)?.version ?? '');
    let reading = this.reading.get(tag);
    if (reading !== undefined) return reading;
    reading = Promise.resolve(this.store.readShared(tagKeyOf(this.prefix, tag))).then(
      (entry) => {
        const version = typeof entry?.value === 'string' ? entry.value : '';
        if (this.reading.get(tag) !== reading) {
          // This instance set a version meanwhile (trusted: it is the newest), or heard of a change that this
          // read may have missed: read again.
          const known = this.known.get(tag);
          return known?.trusted === true ? known.version : this.read(tag);
        }
        this.reading.delete(tag);
        if (this.keepsVersions) this.known.set(tag, { version, trusted: true });
        return version;
      },
      (error: unknown) => {
        if (this.reading.get(tag) === reading) this.reading.delete(tag);
        throw error;
      },
    );
    this.reading.set(tag, reading);
    return reading;
  }
}
