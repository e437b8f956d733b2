import { LayeredCacheError, RedisCommandError } from '../../core/errors.js';
import { REDACTED, REDIS_ERROR_WITHOUT_MESSAGE } from '../../core/messages.js';

/** Option names under which the client libraries take a username or a password. */
const CREDENTIAL_OPTIONS = ['username', 'password', 'sentinelUsername', 'sentinelPassword'] as const;

/** Names of the client libraries' errors for an error reply of Redis: ioredis, then node-redis 5 and 6. */
const ERROR_REPLY_NAMES = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError']);
/** Error replies of a Redis that cannot serve anything for now: an outage, not a refusal. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/;

/** Causes followed below an error; deeper ones are dropped. */
const MAX_CAUSE_DEPTH = 4;

/** The user information of a URL in any text: `scheme://` then whatever comes before `@` in the authority. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]+)@/gi;

/**
 * Hides credentials in the text of a Redis client library's error, and turns such an error into a
 * {@link RedisCommandError}. Each credential is hidden as it was given, percent-decoded and percent-encoded
 * (in either case of hex digits), since a message can quote it from a URL or from an option; so is the
 * user information of any URL in the text, whatever it holds.
 * @internal
 */
export class CredentialRedactor {
  private readonly pattern: RegExp | undefined;

  constructor(credentials: Iterable<string>) {
    const forms = new Set<string>();
    for (const credential of credentials) for (const form of formsOf(credential)) if (form !== '') forms.add(form);
    // Longest first, so that a username inside the password cannot leave part of the password behind.
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map(patternOf);
    this.pattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join('|'), 'g');
  }

  /** `text` with every credential and the user information of every URL replaced by `***`. */
  text(text: string): string {
    const hidden = this.pattern === undefined ? text : text.replace(this.pattern, REDACTED);
    return hidden.replace(URL_USER_INFO, (_match, scheme: string, userInfo: string) => `${scheme}${hideUserInfo(userInfo)}@`);
  }

  /**
   * The library's own error for what a client library threw: errors of this library are returned as they
   * are; anything else becomes a {@link RedisCommandError} with the hidden message, `name` and `code`, and
   * its causes likewise. Nothing else of it is kept, so the command arguments some errors carry are dropped.
   */
  error(error: unknown): LayeredCacheError {
    return error instanceof LayeredCacheError ? error : this.translate(error, 0);
  }

  private translate(error: unknown, depth: number): RedisCommandError {
    if (!(error instanceof Error)) return new RedisCommandError(this.text(String(error)), { driverErrorName: typeof error });
    const record = error as Error & { readonly code?: unknown; readonly errors?: unknown };
    const code = typeof record.code === 'string' ? this.text(record.code) : undefined;
    const driverErrorName = this.text(nameOf(error));
    const cause = error.cause !== undefined && depth < MAX_CAUSE_DEPTH ? this.translate(error.cause, depth + 1) : undefined;
    const message = this.text(messageOf(error, driverErrorName, code));
    const refusal = ERROR_REPLY_NAMES.has(driverErrorName) && !UNAVAILABLE_REPLY.test(message);
    return new RedisCommandError(message, { driverErrorName, code, cause, refusal });
  }
}

/**
 * `text` with every one of `credentials` (and the user information of every URL) replaced by `***`.
 *
 * @example
 * redactCredentials('AUTH app s3cret failed for redis://app:s3cret@cache:6379', ['app', 's3cret']);
 * // 'AUTH *** *** failed for redis://***:***@cache:6379'
 */
export function redactCredentials(text: string, credentials: Iterable<string>): string {
  return new CredentialRedactor(credentials).text(text);
}

/**
 * The usernames and passwords a store's options name: in its `url` and in the `url`, `username`,
 * `password` (and sentinel ones) of `clientOptions` or of the `options` a given client keeps (ioredis and
 * node-redis both keep them there, parsed out of the URL they were created with).
 */
export function credentialsOf(options: { readonly url?: unknown; readonly clientOptions?: unknown; readonly client?: unknown }): string[] {
  const credentials = typeof options.url === 'string' ? urlCredentials(options.url) : [];
  credentials.push(...optionCredentials(options.clientOptions));
  const client = record(options.client);
  if (client !== undefined) credentials.push(...optionCredentials(client.options));
  return credentials;
}

/** Username and password of a URL as written in it (percent-encoded or not); none when it has none. */
export function urlCredentials(url: string): string[] {
  // Read from the text rather than through URL, which would re-encode them: the text is what messages quote.
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  if (userInfo === undefined) return [];
  const colon = userInfo.indexOf(':');
  return colon === -1 ? [userInfo] : [userInfo.slice(0, colon), userInfo.slice(colon + 1)];
}

function optionCredentials(options: unknown): string[] {
  const found = record(options);
  if (found === undefined) return [];
  const credentials = typeof found.url === 'string' ? urlCredentials(found.url) : [];
  for (const name of CREDENTIAL_OPTIONS) {
    const value = found[name];
    if (typeof value === 'string') credentials.push(value);
  }
  return credentials;
}

/** A credential as given, decoded and encoded: the forms a message may show it in. */
function formsOf(credential: string): string[] {
  let decoded = credential;
  try {
    decoded = decodeURIComponent(credential);
  } catch {
    // A lone `%` in a password given as an option: it is not encoded, so there is nothing to decode.
  }
  return [credential, decoded, encodeURIComponent(credential), encodeURIComponent(decoded)];
}

/** A form as a regular expression that matches it literally, percent escapes in either case. */
function patternOf(form: string): string {
  const literal = form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return literal.replace(/%([0-9A-Fa-f])([0-9A-Fa-f])/g, (_match, high: string, low: string) => `%${hexDigit(high)}${hexDigit(low)}`);
}

function hexDigit(digit: string): string {
  return /[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit;
}

/** `user:password` as `***:***`, keeping which parts were empty (`:password` stays `:***`). */
function hideUserInfo(userInfo: string): string {
  return userInfo
    .split(':')
    .map((part) => (part === '' ? '' : REDACTED))
    .join(':');
}

/** The message of an error, else those of the errors it aggregates (a connection tried on several addresses), else what it is. */
function messageOf(error: Error, name: string, code: string | undefined): string {
  if (error.message !== '') return error.message;
  const { errors } = error as { readonly errors?: unknown };
  if (Array.isArray(errors)) {
    const messages = errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).filter((text) => text !== '');
    if (messages.length > 0) return messages.join('; ');
  }
  return REDIS_ERROR_WITHOUT_MESSAGE(name, code);
}

/** The error's `name`, or its class's name where the name says no more than `Error` (node-redis's `SimpleError`). */
function nameOf(error: Error): string {
  const name = typeof error.name === 'string' && error.name !== '' ? error.name : 'Error';
  if (name !== 'Error') return name;
  const className: unknown = (Object.getPrototypeOf(error) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof className === 'string' && className !== '' ? className : name;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
