import { createHash } from 'node:crypto';
import { SHORTENED_HEAD } from '../../core/cache-key.js';

/** The part of a cache's key space that Keyv data lives in: no key of a Keyv on the cache is outside it. */
const KEYV_ROOT = 'keyv:';

/**
 * Where the keys of one Keyv namespace live in a `LayeredCache`: `keyv:<namespace>:`, the namespace
 * percent-encoded (`encodeURIComponent`), so it holds no `:` and ends at the next one. That keeps the
 * mapping injective (namespace `a` with key `b:c` and namespace `a:b` with key `c` stay apart) and a clear of
 * one namespace exact (clearing `a` cannot reach `a:b`). No namespace (`undefined` or `''`, which Keyv treats
 * alike) is `keyv::`. A prefix longer than the head a long key keeps readable when the cache shortens it
 * would let a clear miss those keys, so a long namespace is replaced by a digest of it, marked with `#`,
 * which percent-encoding never leaves in a namespace.
 *
 * @example
 * keyvNamespacePrefix('http'); // 'keyv:http:'
 * keyvNamespacePrefix('a:b'); // 'keyv:a%3Ab:'
 * keyvNamespacePrefix(undefined); // 'keyv::'
 */
export function keyvNamespacePrefix(namespace: string | undefined): string {
  if (namespace === undefined || namespace === '') return `${KEYV_ROOT}:`;
  const prefix = percentEncoded(namespace);
  if (prefix !== undefined && prefix.length <= SHORTENED_HEAD) return prefix;
  // The UTF-16 code units are hashed, so that two namespaces with different lone surrogates stay apart.
  return `${KEYV_ROOT}#${createHash('sha256').update(Buffer.from(namespace, 'utf16le')).digest('base64url')}:`;
}

/** The prefix with the namespace percent-encoded; `undefined` for a namespace with a lone surrogate, which cannot be. */
function percentEncoded(namespace: string): string | undefined {
  try {
    return `${KEYV_ROOT}${encodeURIComponent(namespace)}:`;
  } catch {
    return undefined;
  }
}
