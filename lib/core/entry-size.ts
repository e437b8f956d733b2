import type { CacheEntry } from './cache-entry.js';
import { rememberedPayloadLength } from './envelope.js';

/** Most values {@link estimateValueBytes} looks at; what lies beyond is not counted. */
export const ESTIMATE_MAX_NODES = 100_000;

const NUMBER_BYTES = 8;
const OBJECT_BYTES = 16;
const OTHER_BYTES = 4;

/**
 * The size of an entry in bytes, for an in-process layer bounded by bytes: the length of its text in the
 * shared layer when that is at hand (its {@link CacheEntry.encodedLength}, set by `RedisStore` on what it
 * reads, or the text the cache just made for it), else {@link estimateValueBytes} of its value. At least 1.
 *
 * @example
 * entryBytes({ value: 'x'.repeat(10), createdAt: 0, expiresAt: null, encodedLength: 12 }); // 12
 */
export function entryBytes(entry: CacheEntry): number {
  const known = entry.encodedLength ?? rememberedPayloadLength(entry);
  return Math.max(1, known !== undefined ? known : estimateValueBytes(entry.value));
}

/**
 * An estimate of a value's size in bytes, for values that were never serialized (an L1-only cache): close
 * to the length of its JSON text, without making it. Strings count their length, object keys theirs plus
 * a few, numbers 8, objects and arrays 16, Buffers and other binary data their byte length, anything else
 * 4. Walked with an explicit stack (no recursion, so any depth is fine), up to {@link ESTIMATE_MAX_NODES}
 * values: the rest of a larger value (or of a cycle) is not counted.
 *
 * @example
 * estimateValueBytes({ id: 1, name: 'Ada' }); // 16 + (2 + 2) + 8 + (4 + 2) + 3 = 37
 */
export function estimateValueBytes(value: unknown): number {
  let bytes = 0;
  let budget = ESTIMATE_MAX_NODES;
  const pending: unknown[] = [value];
  while (pending.length > 0 && budget-- > 0) {
    const item = pending.pop();
    switch (typeof item) {
      case 'string':
        bytes += item.length;
        break;
      case 'number':
        bytes += NUMBER_BYTES;
        break;
      case 'object': {
        if (item === null) {
          bytes += OTHER_BYTES;
        } else if (ArrayBuffer.isView(item)) {
          bytes += item.byteLength;
        } else if (Array.isArray(item)) {
          bytes += OBJECT_BYTES;
          // The stack holds no more than the values still to be counted.
          for (let index = 0; index < item.length && pending.length < budget; index++) pending.push(item[index]);
        } else {
          bytes += OBJECT_BYTES;
          const object = item as Record<string, unknown>;
          for (const key of Object.keys(object)) {
            if (pending.length >= budget) break;
            bytes += key.length + 2;
            pending.push(object[key]);
          }
        }
        break;
      }
      default:
        bytes += OTHER_BYTES;
    }
  }
  return bytes;
}
