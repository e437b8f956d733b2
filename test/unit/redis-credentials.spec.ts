import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CacheTimeoutError, LayeredCacheError, RedisCommandError, RedisStore } from '../../lib';
import { CredentialRedactor, credentialsOf, redactCredentials, urlCredentials } from '../../lib/stores/redis/redis-credentials';

describe('redactCredentials', () => {
  it('hides the username and password of a URL, keeping where it points', () => {
    const url = 'redis://app-user:s3cret@cache.internal:6380/2';
    expect(redactCredentials(`could not connect to ${url}`, urlCredentials(url))).toBe('could not connect to redis://***:***@cache.internal:6380/2');
  });

  it('hides the user information of any URL in the text, even credentials it was not told of', () => {
    expect(redactCredentials('rediss://someone:other-secret@host:6379 and redis://:lone-pass@host', [])).toBe('rediss://***:***@host:6379 and redis://:***@host');
  });

  it('hides a percent-encoded password in its encoded and its plain form, in either case of hex digits', () => {
    const url = 'redis://app:p%40ss%3Aw%2Frd%25@cache:6379';
    const credentials = urlCredentials(url);
    expect(credentials).toEqual(['app', 'p%40ss%3Aw%2Frd%25']);
    const message = 'AUTH p@ss:w/rd% refused; retried with p%40ss%3Aw%2Frd%25 and p%40ss%3aw%2frd%25';
    expect(redactCredentials(message, credentials)).toBe('AUTH *** refused; retried with *** and ***');
  });

  it('hides a password given as an option in its plain and its percent-encoded form', () => {
    const password = 'a+b.c*(d)?[e]/f@g';
    const message = `ERR wrong password ${password} (sent as ${encodeURIComponent(password)})`;
    expect(redactCredentials(message, [password])).toBe('ERR wrong password *** (sent as ***)');
  });

  it('hides a password with a lone percent sign, which cannot be decoded', () => {
    expect(redactCredentials('AUTH 100%sure failed', ['100%sure'])).toBe('AUTH *** failed');
  });

  it('hides the whole password when the username is part of it', () => {
    expect(redactCredentials('HELLO 3 AUTH admin admin-pass-1', ['admin', 'admin-pass-1'])).toBe('HELLO 3 AUTH *** ***');
  });

  it('leaves text without credentials as it is', () => {
    expect(redactCredentials('WRONGPASS invalid username-password pair or user is disabled.', ['s3cret', ''])).toBe(
      'WRONGPASS invalid username-password pair or user is disabled.',
    );
  });
});

describe('credentialsOf', () => {
  it('reads the url, the client options and the options a given client keeps', () => {
    expect(credentialsOf({ url: 'redis://u1:p1@h', clientOptions: { url: 'redis://u2:p2@h', username: 'u3', password: 'p3', sentinelPassword: 'p4' } })).toEqual([
      'u1',
      'p1',
      'u2',
      'p2',
      'u3',
      'p3',
      'p4',
    ]);
    expect(credentialsOf({ client: { options: { username: 'u', password: 'p', keyPrefix: 'k:' } } })).toEqual(['u', 'p']);
    expect(credentialsOf({ url: 'redis://localhost:6379' })).toEqual([]);
  });
});

describe('CredentialRedactor.error', () => {
  const redactor = new CredentialRedactor(['cache-user', 'hunter2']);

  it('keeps the message, name and code of a driver error, without its command arguments or credentials', () => {
    const replyError = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled. (hunter2)'), {
      name: 'ReplyError',
      command: { name: 'hello', args: ['3', 'AUTH', 'cache-user', 'hunter2'] },
    });
    const error = redactor.error(replyError);
    expect(error).toBeInstanceOf(RedisCommandError);
    expect(error.message).toBe('WRONGPASS invalid username-password pair or user is disabled. (***)');
    expect((error as RedisCommandError).driverErrorName).toBe('ReplyError');
    expect((error as RedisCommandError).code).toBeUndefined();
    for (const text of [JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true }), String(error.stack)]) {
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('cache-user');
      expect(text).not.toContain('args');
    }
  });

  it('translates the causes too', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6380 for hunter2'), { code: 'ECONNREFUSED' });
    const error = redactor.error(new Error('Connection is closed.', { cause: inner }));
    const cause = error.cause as RedisCommandError;
    expect(cause).toBeInstanceOf(RedisCommandError);
    expect(cause.message).toBe('connect ECONNREFUSED 127.0.0.1:6380 for ***');
    expect(cause.code).toBe('ECONNREFUSED');
    expect(inspect(error, { depth: Infinity })).not.toContain('hunter2');
  });

  it('names the class where the name says only Error, and says what an error without a message was', () => {
    class SimpleError extends Error {}
    expect((redactor.error(new SimpleError('NOAUTH Authentication required.')) as RedisCommandError).driverErrorName).toBe('SimpleError');
    const refused = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:6379'), new Error('connect ECONNREFUSED 127.0.0.1:6379')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(redactor.error(refused).message).toBe('connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379');
    expect(redactor.error(Object.assign(new Error(''), { code: 'NR_CLOSED' })).message).toMatch(/raised Error \(NR_CLOSED\) without a message/);
  });

  it('returns errors of this library as they are', () => {
    const timeout = new CacheTimeoutError('Redis GET did not answer within 20 ms.');
    expect(redactor.error(timeout)).toBe(timeout);
  });
});

describe('RedisStore', () => {
  it.each(['node-redis', 'ioredis'] as const)('keeps the password out of the error for a URL %s cannot parse', (driver) => {
    let thrown: unknown;
    try {
      new RedisStore({ driver, url: 'redis://app:s3cret-pw@cache:not-a-port' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LayeredCacheError);
    expect((thrown as Error).message).toContain('Invalid URL');
    expect(inspect(thrown, { depth: Infinity, showHidden: true })).not.toContain('s3cret-pw');
    expect(JSON.stringify(thrown)).not.toContain('s3cret-pw');
  });
});
