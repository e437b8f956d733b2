/**
 * The messages of the core (stores, policies, offload, resilience, engine, serialization), in one place.
 * Each says what was wrong and how to fix it. The Nest ring's are in nest/layered-cache.messages.ts.
 */

/** A numeric option that must be a positive integer was not. */
export const INVALID_POSITIVE_INTEGER_OPTION = (owner: string, option: string, value: unknown): string =>
  `${owner} option "${option}" must be a positive integer, got ${String(value)}. Pass a whole number greater than 0 or leave it out to use the default.`;

/** A decorated method's default key cannot encode one of its arguments. */
export const UNKEYABLE_ARGUMENT = (path: string, what: string): string =>
  `Cannot build a cache key: ${path} is ${what}. Give the decorator a "key" function that picks the arguments that identify the result.`;

/** What `UNKEYABLE_ARGUMENT` says of a class instance whose state the key cannot see. */
export const OPAQUE_INSTANCE = (className: string): string =>
  `an instance of ${className} with no enumerable properties and no toJSON(), so its state (private fields, getters) cannot be seen and different instances would share one key`;

/** A cache namespace that could be mistaken for part of a key (or for another namespace). */
export const INVALID_NAMESPACE = (namespace: unknown, problem: string): string => {
  const shown = typeof namespace === 'string' ? JSON.stringify(namespace) : `${String(namespace)} (${typeof namespace})`;
  const fix =
    typeof namespace === 'string' && namespace.includes(':')
      ? `Use another separator, such as ${JSON.stringify(namespace.replaceAll(':', '-'))} or ${JSON.stringify(namespace.replaceAll(':', '.'))}`
      : 'Pass a non-empty name such as "my-app", or leave namespace out for keys without a prefix';
  return `Invalid cache namespace ${shown}: it ${problem}. Every stored key is "namespace:key" and the namespace ends at the first ":", so a namespace must be a non-empty string without ":" (otherwise namespace "a" with key "b:c" and namespace "a:b" with key "c" would be one entry, and clear("a") would delete namespace "a:b" too). ${fix}.`;
};

/** An OffloadService option (or a per-call timeout) has a value it cannot use. */
export const OFFLOAD_INVALID_OPTION = (option: string, value: unknown, expected: string): string =>
  `OffloadService "${option}" must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}. Pass a valid value or leave it out to use the default.`;

/** A background task threw or rejected; the caller that started it was not affected. */
export const OFFLOAD_TASK_FAILED = (kind: string, key: string | undefined, cause: string): string =>
  `Background "${kind}" task (key ${key === undefined ? 'none' : JSON.stringify(key)}) failed: ${cause}. The caller was not affected; fix the task or the layer it talks to.`;

/** A background task outlived its timeout; its signal was aborted and its slot given to the next task. */
export const OFFLOAD_TASK_TIMED_OUT = (kind: string, key: string | undefined, timeoutMs: number): string =>
  `Background "${kind}" task (key ${key === undefined ? 'none' : JSON.stringify(key)}) did not settle within ${timeoutMs} ms; its AbortSignal was aborted and its slot freed. Make the task honour its signal or raise "timeoutMs".`;

/** Shutdown gave up on background work that had not settled by its deadline. */
export const OFFLOAD_SHUTDOWN_ABANDONED = (running: number, queued: number, timeoutMs: number): string =>
  `OffloadService shutdown abandoned ${running + queued} background task(s) still pending after ${timeoutMs} ms: ${running} running (aborted) and ${queued} never started. Give shutdown a longer timeout or make tasks honour their AbortSignal.`;

/** Abort reason given to tasks still running when shutdown gives up on them. */
export const OFFLOAD_ABORTED_BY_SHUTDOWN = 'The offload service shut down before this background task settled.';

/** The onEvent hook threw; the service ignores it and carries on. */
export const OFFLOAD_HOOK_FAILED = (cause: string): string =>
  `OffloadService "onEvent" hook threw: ${cause}. The service carried on; make the hook catch its own errors.`;

/** `set` was given `undefined`. */
export const UNDEFINED_NOT_CACHEABLE = (key: string): string =>
  `Cannot cache undefined under "${key}": undefined means "not cached" when read back. Call delete("${key}") to remove the entry, or cache null to remember that there is no value.`;

/** A getOrSet factory did not settle within its hardTimeoutMs. */
export const FACTORY_NOT_SETTLED = (key: string, hardTimeoutMs: number): string =>
  `The factory loading "${key}" did not settle within ${hardTimeoutMs} ms (hardTimeoutMs): its value will not be cached, and the next call for the key runs a factory of its own. Make the factory settle (bound its I/O with a timeout), or raise hardTimeoutMs if it legitimately takes longer.`;

/** `LayeredCache.clear()` without a namespace, on a cache whose keys have none and that has an L2. */
export const CLEAR_NEEDS_NAMESPACE =
  'clear() needs a namespace on a cache with an L2: this cache has no namespace, so its keys cannot be told apart from those of other applications sharing the L2, and nothing was deleted. Give the module a "namespace" and call clear(), or call clear("<namespace>") for the keys you want gone.';

/** What every TTL message says a TTL must be; 3153600000000 ms is `MAX_TTL_MS` (100 years). */
export const TTL_RANGE =
  "ttl is a number of milliseconds from 0 to 3153600000000 (100 years), or a string with its unit ('500ms', '30s', '5m', '2h', '1d'); fractions are rounded up to a whole millisecond, and 0 keeps the entry until it is evicted. Pass a value in that range, or leave ttl out to use the default";

/** Shows a refused option value; strings are quoted so that "1000" and 1000 look different. */
export const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value));

/** A TTL was not a number of milliseconds in the range a layer can store. */
export const INVALID_TTL = (ttl: unknown): string => `Invalid ttl ${shown(ttl)} (${typeof ttl}): ${TTL_RANGE}.`;

/** Parts of a value that the JSON serializer refuses, each with how to cache it instead. */
export const UNSERIALIZABLE_KINDS = {
  bigint: ['a BigInt', 'store it as a string (or a number when it is small enough) and convert it back after reading'],
  function: ['a function', 'cache plain data only and rebuild behaviour after reading'],
  symbol: ['a symbol', 'replace it with a string'],
  nan: ['NaN', 'use null (or leave the property out) instead'],
  infinity: ['an infinite number', 'use null or a very large finite number instead'],
  'undefined-in-array': ['undefined inside an array', 'use null there instead (JSON would turn it into null)'],
  undefined: ['undefined', 'cache null instead, or delete the key'],
  map: ['a Map', 'cache Object.fromEntries(map) or [...map.entries()] and rebuild the Map after reading'],
  set: ['a Set', 'cache [...set] and rebuild the Set after reading'],
  'weak-collection': ['a WeakMap or WeakSet, whose contents cannot be read', 'cache the data it maps instead'],
  regexp: ['a RegExp', 'cache its source and flags and rebuild it after reading'],
  binary: [
    'binary data other than a Buffer or a Uint8Array (another typed array, a subclass, an ArrayBuffer or a DataView)',
    'cache its bytes as a Buffer or a Uint8Array (for example new Uint8Array(view.buffer, view.byteOffset, view.byteLength)) and rebuild the view after reading',
  ],
  promise: ['a Promise', 'await it and cache the result'],
  circular: ['a circular reference to an object that contains it', 'cache a copy without the cycle'],
} as const;

/** Name of a part of a value that the JSON serializer refuses. */
export type UnserializableKind = keyof typeof UNSERIALIZABLE_KINDS;

/** The JSON serializer refused part of a value; `path` is like `value.items[2].id`. */
export const UNSERIALIZABLE_VALUE = (path: string, kind: UnserializableKind): string =>
  `Cannot store this value in the shared cache layer: ${path} is ${UNSERIALIZABLE_KINDS[kind][0]}, which JSON cannot store faithfully. To fix it, ${UNSERIALIZABLE_KINDS[kind][1]}, or give the store a serializer that supports it.`;

/** The JSON serializer met a class instance it would store as `{}`; `path` is like `value.account`. */
export const UNSERIALIZABLE_HIDDEN_STATE = (path: string, className: string): string =>
  `Cannot store this value in the shared cache layer: ${path} is an instance of ${className} with no own enumerable property and no toJSON method, so JSON would store it as {} and lose whatever it holds (#private fields and accessors are invisible to it). To fix it, declare its fields as public properties, add a toJSON method that returns its data, or cache a plain object instead.`;

/** Instances of a class were cached without a declared type, so every layer returns them as plain data. */
export const UNTYPED_INSTANCES_CACHED = (className: string): string =>
  `Instances of ${className} are cached as plain data (their own enumerable properties, or what their toJSON returns), so cache hits from every layer return that plain form, not ${className} instances, and its methods, getters and class-based handling (such as ClassSerializerInterceptor's @Exclude) do not apply to them. To get ${className} instances back, declare the class with the \`type\` option of @Cacheable/@CacheWrite or getOrSet (type: ${className}, or type: [${className}] for an array of them); instances nested inside another cached object always come back as plain objects. This is reported once per class.`;

/** A \`type\` option is not a class or a one-class array. */
export const INVALID_CACHED_TYPE = (where: string, got: string): string =>
  `The \`type\` option of ${where} must be a class (type: User) or an array holding one class for an array of its instances (type: [User]); got ${got}. Pass the class itself.`;

/** JSON.stringify (or a toJSON method) threw for a reason the serializer could not pin down. */
export const SERIALIZATION_FAILED = (cause: string): string =>
  `Cannot store this value in the shared cache layer: serializing it failed (${cause}). Cache plain data (objects, arrays, strings, finite numbers, booleans, null, Date), or give the store a serializer that supports it.`;

/** A payload read from the shared layer is not valid serializer output. */
export const PAYLOAD_UNDECODABLE = (cause: string): string =>
  `A cached value read from the shared layer could not be decoded (${cause}). It is corrupt or was written with another serializer: make every instance use the same serializer, or delete the key.`;

/** A byte count for messages: exact, with MiB or KiB when that reads better. */
export const shownBytes = (bytes: number): string => {
  if (bytes >= 1024 * 1024) return `${bytes} bytes (${(bytes / (1024 * 1024)).toFixed(1)} MiB)`;
  if (bytes >= 1024) return `${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`;
  return `${bytes} bytes`;
};

/** A value written to the cache is larger than `maxValueBytes`. */
export const VALUE_TOO_LARGE_TO_CACHE = (key: string, bytes: number, maxValueBytes: number): string =>
  `Cannot cache the value of "${key}": its text in the shared layer would be ${shownBytes(bytes)}, more than maxValueBytes (${shownBytes(maxValueBytes)}), so it was cached in no layer. Cache less (a page of the result, or only the fields callers use), or raise maxValueBytes (an option of LayeredCacheModule.forRoot, LayeredCache and RedisStore) if values this big are expected: every L2 hit of such a value blocks the event loop while it is parsed, about 5 ms per MB.`;

/** A store was given an entry whose text is larger than its `maxValueBytes`. */
export const VALUE_TOO_LARGE_TO_STORE = (key: string, bytes: number, maxValueBytes: number): string =>
  `Cannot write "${key}" to the shared layer: its text is at least ${shownBytes(bytes)}, more than the store's maxValueBytes (${shownBytes(maxValueBytes)}), so it was not sent. Cache less under this key, or raise maxValueBytes of the store (and of every instance that reads it).`;

/** A value read from the shared layer is larger than `maxValueBytes`. */
export const VALUE_TOO_LARGE_TO_READ = (key: string, atLeastBytes: number, maxValueBytes: number): string =>
  `The value stored in the shared layer under "${key}" is at least ${shownBytes(atLeastBytes)}, more than maxValueBytes (${shownBytes(maxValueBytes)}), so it was not decoded and the read is a miss. Another writer stored it (a program, or an instance with a higher maxValueBytes): give every instance the same maxValueBytes, or delete the key.`;

/** A `maxValueBytes` option that is not a usable number of bytes. */
export const INVALID_MAX_VALUE_BYTES = (owner: string, value: unknown): string =>
  `${owner} option "maxValueBytes" must be a whole number of bytes from 1 to 536870912 (512 MiB, the largest string Redis stores by default), got ${shown(value)}. Leave it out to use the default of 8 MiB.`;

/** The cache was given a larger `maxValueBytes` than its L2 store's. */
export const MAX_VALUE_BYTES_ABOVE_L2 = (cacheLimit: number, storeLimit: number): string =>
  `maxValueBytes ${cacheLimit} is more than the L2 store's own maxValueBytes ${storeLimit}: values in between would be kept in L1 but refused by L2, and read from it as misses. Give the store the same limit (l2: { url, maxValueBytes }, or new RedisStore({ maxValueBytes })), or leave maxValueBytes out of the cache's options to use the store's.`;

/** A value written to the shared layer is nested deeper than the serializer's `maxDepth`. */
export const VALUE_TOO_DEEP_TO_STORE = (maxDepth: number): string =>
  `Cannot store this value in the shared cache layer: its arrays and objects are nested more than ${maxDepth} levels deep, and a value that deep overflows the stack of the recursive code that handles it next (JSON.stringify of an HTTP response, structuredClone). Cache a flatter shape, or raise maxDepth (new JsonSerializer({ maxDepth })) on every instance if you need it.`;

/** A value read from the shared layer is nested deeper than the serializer's `maxDepth`. */
export const VALUE_TOO_DEEP_TO_READ = (maxDepth: number): string =>
  `A cached value read from the shared layer has arrays and objects nested more than ${maxDepth} levels deep, so it was not decoded and the read is a miss: a value that deep overflows the stack of the recursive code that handles it next (JSON.stringify of an HTTP response). Another writer stored it: give every instance the same serializer options, or delete the key.`;

/** A `maxDepth` option of `JsonSerializer` that is not a usable depth. */
export const INVALID_MAX_DEPTH = (value: unknown): string =>
  `JsonSerializer option "maxDepth" must be a whole number from 32 to 100000, got ${shown(value)}. Leave it out to use the default of 1000.`;

/** `MemoryStore` was given two bounds on the size of its entries. */
export const MEMORY_STORE_TWO_SIZE_BOUNDS =
  'MemoryStore got both "maxBytes" and "maxSize": they are one bound, in bytes (maxBytes) or in the unit of your own "sizeOf" (maxSize). Pass one of them.';

/** `MemoryStore` was given `sizeOf` without `maxSize`. */
export const MEMORY_STORE_SIZE_OF_WITHOUT_MAX_SIZE =
  'MemoryStore got "sizeOf" without "maxSize": sizeOf gives the size of an entry in the unit of maxSize and is used for nothing else. Pass maxSize with it, or use maxBytes, which measures entries itself.';

/** A custom serializer returned something other than a string. */
export const SERIALIZER_RETURNED_NON_STRING = (type: string): string =>
  `The store's serializer returned ${type} from serialize(); it must return a string. Fix the serializer, or leave the option out to use JsonSerializer.`;

/** An entry given to the shared layer has a time that is not epoch milliseconds. */
export const ENVELOPE_INVALID_TIME = (field: string, value: unknown): string =>
  `Cannot store the cache entry: ${field} must be a whole number of epoch milliseconds (>= 0), got ${String(value)}. Build entries with createCacheEntry().`;

/** An entry given to the shared layer has a version that is not one the cache makes. */
export const ENVELOPE_INVALID_ENTRY_VERSION = (version: string): string =>
  `Cannot store an entry with version ${JSON.stringify(version)}: an entry version is at most 32 digits. Let the cache set versions, or build them with VersionClock.`;

/** A VersionClock was given a writer id it cannot put in a version. */
export const INVALID_VERSION_CLOCK_ID = (id: string): string =>
  `VersionClock id ${JSON.stringify(id)} is not six digits: versions are compared as text of 23 digits, so the writer id must be exactly six digits. Leave it out to get a random one.`;

/** A value in the shared layer is not in this library's entry format. */
export const ENVELOPE_MALFORMED = (problem: string): string =>
  `A value in the shared cache layer is not a nestjs-layered-cache entry (${problem}). Another program wrote to this key or the value is corrupt: give the cache a namespace of its own, or delete the key.`;

/** A value in the shared layer was written in a format version this release does not read. */
export const ENVELOPE_UNKNOWN_VERSION = (version: string, supported: string): string =>
  `A value in the shared cache layer has entry format version ${JSON.stringify(version)}, but this release of nestjs-layered-cache reads only versions ${supported}. A newer release wrote it: upgrade every instance that shares this cache, or give each release its own namespace while both run.`;

/** A value in the shared layer uses format features this release does not know. */
export const ENVELOPE_UNKNOWN_FLAGS = (flags: number): string =>
  `A value in the shared cache layer uses entry format features this release does not understand (flags ${flags}). A newer release wrote it: upgrade every instance that shares this cache, or give each release its own namespace while both run.`;

/** A Redis command did not settle within the store's timeout. */
export const REDIS_COMMAND_TIMED_OUT = (command: string, timeoutMs: number, connectionError: string | undefined): string =>
  `Redis ${command} did not answer within ${timeoutMs} ms${connectionError === undefined ? '' : ` (the connection is down: ${connectionError})`}. Check that Redis is reachable and not overloaded, or raise "commandTimeoutMs" in the RedisStore options if your network needs longer.`;

/** node-redis dropped a command queued while the connection was down, at the store's command timeout. */
export const REDIS_OFFLINE_TIMEOUT = (timeoutMs: number): string =>
  `Redis was not connected within ${timeoutMs} ms, so the command was not sent. Check that Redis is reachable, or raise "commandTimeoutMs" in the RedisStore options.`;

/** A RedisStore method was called after close(). */
export const REDIS_STORE_CLOSED =
  'This RedisStore is closed, so it no longer sends commands. Create a new RedisStore, or stop using this one before closing it.';

/** What stands in for a username or password in the text of a Redis client library's error. */
export const REDACTED = '***';

/** The Redis client library raised an error without a message. */
export const REDIS_ERROR_WITHOUT_MESSAGE = (name: string, code: string | undefined): string =>
  `The Redis client library raised ${name}${code === undefined ? '' : ` (${code})`} without a message. Check that Redis is reachable and accepts this client's credentials.`;

/** RedisStore.clear() was called without a prefix. */
export const REDIS_CLEAR_NEEDS_PREFIX =
  'RedisStore.clear() needs a non-empty key prefix: it refuses to delete every key of a Redis that other applications may share. Pass the prefix to delete (e.g. "myapp:"), or give the cache a namespace so that clearing it passes one.';

/** RedisStore was given a `client` it cannot use. */
export const REDIS_UNKNOWN_CLIENT = (description: string): string =>
  `RedisStore "client" must be a node-redis v5 or v6 client (createClient() from "redis") or an ioredis instance (new Redis()), got ${description}. Pass one of those, or pass "url" and let the store create the client.`;

/** RedisStore was given a cluster or sentinel client. */
export const REDIS_UNSUPPORTED_TOPOLOGY = (kind: string): string =>
  `RedisStore does not support ${kind} clients: clear() must scan every node and commands are sent to a single server. Pass a client for a single Redis server (createClient() from "redis" or new Redis() from "ioredis").`;

/** RedisStore was given both an existing client and options for creating one. */
export const REDIS_CLIENT_WITH_CONNECTION_OPTIONS = (options: string): string =>
  `RedisStore got "client" together with ${options}, which only apply when the store creates its own client. Pass either "client" or connection options, not both.`;

/** RedisStore "driver" option is not one it knows. */
export const REDIS_UNKNOWN_DRIVER = (driver: unknown): string =>
  `RedisStore "driver" must be "node-redis" or "ioredis", got ${JSON.stringify(driver) ?? String(driver)}. Leave it out to use node-redis.`;

/** The ioredis driver was requested but the package cannot be loaded. */
export const REDIS_IOREDIS_MISSING = (cause: string): string =>
  `RedisStore driver "ioredis" needs the "ioredis" package, which could not be loaded (${cause}). Install it with "npm install ioredis", or leave "driver" out to use node-redis.`;

/** RedisStore could not create its client from the options. */
export const REDIS_CLIENT_CREATION_FAILED = (driver: string, cause: string): string =>
  `RedisStore could not create its ${driver} client: ${cause}. Check "url" (redis[s]://[[user][:password]@]host[:port][/db]) and "clientOptions".`;

/**
 * RedisStore options have a `url` key without a value, typically `{ url: process.env.REDIS_URL }` with the
 * variable unset; connecting to localhost instead would hide the mistake.
 */
export const REDIS_URL_MISSING = (what: 'undefined' | 'empty'): string =>
  `RedisStore option "url" (l2.url in LayeredCacheModule) is ${what}: is the environment variable meant to hold it (REDIS_URL?) set? Pass a URL (redis[s]://[[user][:password]@]host[:port][/db]), or l2: false to run L1 only. To connect to redis://localhost:6379 on purpose, leave "url" out.`;

/** RedisStore.set got a ttl that is not a number of milliseconds. */
export const REDIS_INVALID_TTL = (ttlMs: unknown): string =>
  `RedisStore.set got ttlMs ${String(ttlMs)}: it must be a number of milliseconds (0 or less deletes the key) or undefined for no expiry.`;

/** cache-manager has no delete-by-prefix. */
export const CACHE_MANAGER_PREFIX_CLEAR = (prefix: string): string =>
  `CacheManagerStore cannot clear the keys under "${prefix}": cache-manager has no delete-by-prefix. Give this cache its own Keyv namespace and call clear() without a namespace, or use RedisStore, which clears by prefix.`;

/** A resilience option (timeout, circuit breaker or replay queue) has a value it cannot use. */
export const INVALID_RESILIENCE_OPTION = (option: string, value: unknown, expected: string): string =>
  `Resilience option "${option}" must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}. Pass a valid value or leave it out to use the default.`;

/** A per-call or decorator `timeoutMs` is not a usable number of milliseconds. */
export const INVALID_TIMEOUT = (timeoutMs: unknown): string =>
  `Invalid timeoutMs ${String(timeoutMs)}: it bounds how long a call waits for L2, in milliseconds, and must be a number greater than 0 and at most 2147483647. Leave it out to use the module's resilience.timeoutMs.`;

/** An L2 call did not settle within the timeout the cache gave it. */
export const L2_CALL_TIMED_OUT = (operation: string, timeoutMs: number): string =>
  `L2 ${operation} did not answer within ${timeoutMs} ms, so the cache went on without it. If L2 is healthy but slow, raise resilience.timeoutMs (or the call's timeoutMs); otherwise check that it is reachable.`;

/** An L2 call was not sent because its call had used its whole L2 time budget before its turn came. */
export const L2_BUDGET_EXHAUSTED = (operation: string): string =>
  `L2 ${operation} was not attempted: this call had used its whole L2 time budget (timeoutMs) before its turn came, on its read or waiting for earlier calls on the same key. A write is kept for replay when the policy allows it; raise timeoutMs if L2 is healthy but slow.`;

/** Message of the error a skipped L2 call rejects with while the circuit breaker is open. */
export const CIRCUIT_OPEN_SKIPPED = (failures: number, cooldownMs: number): string =>
  `L2 was not called: its circuit breaker opened after ${failures} consecutive failure(s) and rests for ${cooldownMs} ms before one call probes it again. Check that L2 (Redis) is reachable; tune resilience.breaker to trip later or rest longer.`;

/** Logged when the L2 circuit breaker opens. */
export const CIRCUIT_OPENED = (failures: number, cooldownMs: number, cause: string | undefined): string =>
  `L2 failed ${failures} time(s) in a row${cause === undefined ? '' : ` (last: ${cause})`}: skipping it for ${cooldownMs} ms. Meanwhile reads are served by L1 or are misses, and writes go to L1 and are kept for replay. Check that L2 (Redis) is reachable.`;

/** Logged when the L2 circuit breaker closes again. */
export const CIRCUIT_CLOSED = (pending: number): string =>
  `L2 answers again: its circuit breaker closed${pending > 0 ? `; replaying ${pending} kept write(s)` : ''}.`;

/** Logged once per outage when the replay queue is full and starts dropping its oldest writes. */
export const REPLAY_QUEUE_FULL = (maxEntries: number): string =>
  `The L2 replay queue is full (${maxEntries} keys): the oldest kept writes are being dropped, so L2 will miss them after it recovers (L1 and the data source are unaffected). Raise resilience.replay.maxEntries if your outages outlast it.`;

/** Logged when shutdown could not write every kept L2 write. */
export const REPLAY_ABANDONED = (abandoned: number, timeoutMs: number, refusal: string | undefined, unanswered: number): string => {
  const more = unanswered === 0 ? '' : `, and ${unanswered} write(s) sent earlier were still unanswered (they may yet land)`;
  return refusal === undefined
    ? `Shutdown could not write ${abandoned} kept L2 write(s) within ${timeoutMs} ms because L2 did not answer${more}; those keys are missing or stale in L2 until they are written again. Make L2 reachable during shutdown or raise shutdownTimeoutMs.`
    : `Shutdown gave up on ${abandoned} kept L2 write(s) because L2 refused them (${refusal})${more}; those keys are missing or stale in L2 until they are written again. Check what the refusal says: a Redis out of memory (maxmemory with noeviction) or a read-only replica takes no writes.`;
};

/** A replay of kept L2 writes stopped on an unexpected error; the writes stay kept for the next attempt. */
export const REPLAY_RUN_FAILED = (cause: string): string =>
  `Replaying kept L2 writes stopped on an unexpected error: ${cause}. The writes not replayed yet stay kept and are tried again later; please report this error to the maintainers of nestjs-layered-cache.`;

/** Message of the failure a ChaosStore injects. */
export const CHAOS_INJECTED_FAILURE = (operation: string, key: string): string =>
  `ChaosStore injected a failure into ${operation} of "${key}". This is a test fault, not a real one: call recover() or lower failureRate to stop it.`;

/** Rejection of ChaosStore calls still hanging when the store is closed. */
export const CHAOS_STORE_CLOSED = (operation: string, key: string): string =>
  `ChaosStore was closed while ${operation} of "${key}" was hanging. Call recover() before close() to let hanging calls reach the wrapped store.`;

/** A ChaosStore option has a value it cannot use. */
export const CHAOS_INVALID_OPTION = (option: string, value: unknown, expected: string): string =>
  `ChaosStore option "${option}" must be ${expected}, got ${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}. Pass a valid value or leave it out.`;

/** `invalidation: 'auto'` found that Redis refuses `CLIENT TRACKING` (an old server, or an ACL without the CLIENT command). */
export const INVALIDATION_TRACKING_REFUSED = (cause: string): string =>
  `Redis refused CLIENT TRACKING (${cause}), so L1 invalidation between instances uses Redis pub/sub instead. Writes made by programs other than this library then do not invalidate L1 copies; grant the CLIENT command to this connection to have them do so.`;

/** `invalidation: 'tracking'` could not turn tracking on. */
export const INVALIDATION_TRACKING_FAILED = (cause: string): string =>
  `L1 invalidation could not turn on Redis CLIENT TRACKING (${cause}); until it can, writes by other instances do not reach this instance's L1, whose entries last up to their TTL or "l1MaxTtl". It tries again; grant the CLIENT command to this connection, or use invalidation: 'pubsub'.`;

/** The subscriber connection of the invalidation bus was lost. */
export const INVALIDATION_CONNECTION_LOST = (cause: string): string =>
  `The connection that receives L1 invalidations from Redis was lost (${cause}). It reconnects by itself; once it is back, L1 entries that could have missed a message are dropped.`;

/** An announcement of this instance's changes could not be published. */
/** Why announcements pending at shutdown were not published (the cause in {@link INVALIDATION_PUBLISH_FAILED}). */
export const INVALIDATION_DOWN_AT_CLOSE = 'the connection to Redis was down when the cache closed';

export const INVALIDATION_PUBLISH_FAILED = (keys: number, cause: string): string =>
  `Publishing the invalidation of ${keys} key(s) to the other instances failed (${cause}); their L1 copies of those keys last up to their TTL or "l1MaxTtl".`;

/** A second cache asked one RedisStore for tracking. */
export const REDIS_TRACKING_TAKEN =
  `This RedisStore already carries the CLIENT TRACKING of another cache, and a Redis connection has room for one. Give each cache its own RedisStore, or use invalidation: 'pubsub' for this one.`;

/** `invalidation` asked for a Redis mode over an L2 that cannot carry it. */
export const INVALIDATION_NEEDS_REDIS = (mode: string, l2: string): string =>
  `invalidation: '${mode}' needs a RedisStore as L2, but L2 is ${l2}. Pass an InvalidationBus of your own, or invalidation: false.`;

/** `invalidation` was not one of the accepted values. */
export const INVALID_INVALIDATION_OPTION = (value: string): string =>
  `invalidation must be 'auto', 'tracking', 'pubsub', false or an InvalidationBus (an object with start() and close()), got ${value}.`;

/** `l1MaxTtl` was not a positive number of milliseconds. */
export const INVALID_L1_MAX_TTL = (value: unknown): string =>
  `l1MaxTtl must be a positive number of milliseconds or a string with its unit ('30s', '5m'): the longest an L1 copy is kept. Got ${shown(value)}. Leave it out for no bound beyond each entry's TTL.`;

/** `singleFlight` was not one of the accepted values. */
export const INVALID_SINGLE_FLIGHT = (value: unknown): string => `singleFlight must be 'local' or 'distributed', got ${JSON.stringify(value) ?? String(value)}.`;

/** `singleFlight: 'distributed'` over an L2 that hands out no leases. */
export const DISTRIBUTED_SINGLE_FLIGHT_NEEDS_LEASES =
  `singleFlight: 'distributed' needs an L2 that hands out leases (a RedisStore), and this cache's L2 does not. Use singleFlight: 'local' (the default), or a RedisStore as L2.`;

/** A `tags` option that is not a list of non-empty strings. */
export const INVALID_TAGS = (tags: unknown): string =>
  `tags must be an array of non-empty strings (or, on a decorator, a function of the method's arguments that returns one), got ${Array.isArray(tags) ? JSON.stringify(tags) : typeof tags}.`;

/** `invalidation: 'auto'` found that Redis reports a connection's own script writes back to it. */
export const INVALIDATION_TRACKING_ECHOES =
  `This Redis reports the keys a connection's own scripts change back to that connection, whatever CLIENT TRACKING NOLOOP says (Redis 7.0 does), so each write would drop this instance's own L1 copy: L1 invalidation uses Redis pub/sub instead. Pass invalidation: 'tracking' to use tracking anyway (writes by other programs then invalidate too).`;

/** `new KeyvLayeredCache(x)` was given something other than a LayeredCache. */
export const KEYV_NEEDS_LAYERED_CACHE = (given: string): string =>
  `KeyvLayeredCache needs a LayeredCache (the cache LayeredCacheModule provides, or one built with new LayeredCache(...)), got ${given}. In Nest, inject LayeredCache into the factory that builds the Keyv: CacheModule.registerAsync({ inject: [LayeredCache], useFactory: (cache: LayeredCache) => ({ stores: [new Keyv(KeyvLayeredCache.keyvOptions(cache))] }) }).`;

/** The health check's ping of L2 failed or went unanswered. */
export const HEALTH_L2_NOT_ANSWERING = (detail: string): string =>
  `L2 did not answer the health check's ping (${detail}). The cache keeps serving from L1 and the application's own sources, but instances no longer share entries; check that Redis is up and reachable from this instance.`;

/** How a ping that was not answered in time is described in {@link HEALTH_L2_NOT_ANSWERING}. */
export const HEALTH_PING_TIMED_OUT = (timeoutMs: number): string => `no answer within ${timeoutMs} ms`;

/** The health check found the L2 circuit breaker open. */
export const HEALTH_BREAKER_OPEN = (retryInMs: number | undefined): string =>
  `The L2 circuit breaker is open after repeated L2 failures, so the cache does not call L2${retryInMs === undefined ? '' : `; it lets one call probe L2 in ${retryInMs} ms`}. Check that L2 (Redis) is reachable; the log has the failures that opened the breaker ("L2 failed ... time(s) in a row").`;

/** More L2 writes wait for replay than the health check allows. */
export const HEALTH_REPLAY_BACKLOG = (pending: number, max: number): string =>
  `${pending} L2 write(s) wait to be replayed, more than maxReplayBacklog (${max}): L2 failed them and other instances read older values from L2 until they are replayed. Check L2, or raise maxReplayBacklog.`;

/** More background tasks are running or queued than the health check allows. */
export const HEALTH_OFFLOAD_BACKLOG = (backlog: number, max: number): string =>
  `${backlog} background cache task(s) are running or queued, more than maxOffloadBacklog (${max}): L2 answers more slowly than background writes arrive. Check L2's latency, or raise maxOffloadBacklog.`;

/** A health check threshold is not a usable count. */
export const HEALTH_INVALID_THRESHOLD = (option: string, value: unknown): string =>
  `The cache health check got ${option} ${String(value)}: it is the largest count that is still healthy, a whole number of 0 or more. Leave it out for no limit.`;

/** `instrumentLayeredCache` was called for a cache that reports metrics already. */
export const METRICS_ALREADY_ON = (namespace: string): string =>
  `The cache${namespace === '' ? '' : ` of namespace "${namespace}"`} reports OpenTelemetry metrics already, and instrumenting it again would count every call twice. Call stop() on the LayeredCacheMetrics instrumentLayeredCache returned first, or keep using that one.`;

/** The health check's `timeoutMs` is not a usable number of milliseconds. */
export const HEALTH_INVALID_TIMEOUT = (timeoutMs: unknown): string =>
  `The cache health check got timeoutMs ${String(timeoutMs)}: it bounds how long the check waits for L2's answer, in milliseconds, and must be a number greater than 0 and at most 2147483647. Leave it out for 1000.`;
