/**
 * Loads an optional peer dependency synchronously, resolved from this package's own folder, when a feature
 * first needs it, so that users who do not use the feature need not install the peer.
 *
 * This file is a `.cts` so that it stays CommonJS in both builds: an ES module has no `require`,
 * `import.meta.url` (for `createRequire`) does not compile to CommonJS, and `await import()` would make
 * the callers asynchronous.
 * @internal
 */
export function requirePeer(name: string): unknown {
  return require(name);
}
