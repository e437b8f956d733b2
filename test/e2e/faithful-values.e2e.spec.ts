import { Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CacheSerializationError, Cacheable, CacheWrite, L1_STORE, type CacheStore, LayeredCache } from '../../lib';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { REDIS_URL, holdsEntry, uniqueNamespace } from '../support/redis';
import { trackAppsOnRedis } from '../support/redis-apps';

/** What a `ClassSerializerInterceptor` with `@Exclude() passwordHash` does: it acts on instances of the class only. */
function serializeForResponse(value: unknown): unknown {
  if (!(value instanceof User)) return value;
  const { passwordHash: _hidden, ...visible } = value;
  return visible;
}

class User {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly passwordHash: string,
  ) {}

  get greeting(): string {
    return `Hello, ${this.name}`;
  }
}

class Wallet {
  #balance = 10;
  balance(): number {
    return this.#balance;
  }
}

@Injectable()
class Users {
  loads = 0;

  @Cacheable({ key: (id: string) => `user:${id}`, type: User })
  async findOne(id: string): Promise<User> {
    this.loads++;
    return new User(id, 'Ada', 'secret-hash');
  }

  @Cacheable({ key: (id: string) => `untyped:${id}` })
  async findUntyped(id: string): Promise<User> {
    this.loads++;
    return new User(id, 'Bob', 'secret-hash');
  }

  @Cacheable({ key: 'avatar' })
  async avatar(): Promise<Buffer> {
    this.loads++;
    return Buffer.from([0, 1, 2, 255]);
  }

  @CacheWrite({ key: 'wallet' })
  async wallet(): Promise<Wallet> {
    return new Wallet();
  }
}

@Module({ providers: [Users] })
class UsersModule {}

describe('values come back faithfully from every layer (real Redis)', () => {
  const tracker = trackAppsOnRedis();

  async function boot() {
    const namespace = uniqueNamespace('faithful');
    const app = await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }, imports: [UsersModule] });
    tracker.track(app, namespace);
    const l1 = app.get<CacheStore>(L1_STORE);
    return { app, namespace, users: app.get(Users), cache: app.get(LayeredCache), clearL1: () => l1.clear?.() };
  }

  it('with a declared type, an L2 hit is an instance, so the response strips the same fields as on the instance that wrote it', async () => {
    const { users, clearL1 } = await boot();
    const fromMethod = await users.findOne('1');
    const fromL1 = await users.findOne('1');
    await clearL1();
    const fromL2 = await users.findOne('1');
    expect(users.loads).toBe(1);
    for (const user of [fromMethod, fromL1, fromL2]) {
      expect(user).toBeInstanceOf(User);
      expect(user.greeting).toBe('Hello, Ada');
      expect(serializeForResponse(user)).toEqual({ id: '1', name: 'Ada' });
    }
  });

  it('without a declared type, L1 and L2 answer in the same plain form', async () => {
    const { users, clearL1 } = await boot();
    await users.findUntyped('2');
    const fromL1 = await users.findUntyped('2');
    await clearL1();
    const fromL2 = await users.findUntyped('2');
    expect(fromL1).not.toBeInstanceOf(User);
    expect(fromL2).not.toBeInstanceOf(User);
    expect(fromL1).toEqual(fromL2);
  });

  it('round-trips a Buffer through Redis as a Buffer', async () => {
    const { users, clearL1 } = await boot();
    await users.avatar();
    await clearL1();
    const fromL2 = await users.avatar();
    expect(users.loads).toBe(1);
    expect(Buffer.isBuffer(fromL2)).toBe(true);
    expect([...fromL2]).toEqual([0, 1, 2, 255]);
  });

  it('refuses with set() a value the serializer cannot store faithfully, and caches it in no layer', async () => {
    const { cache, namespace } = await boot();
    for (const value of [{ total: 10n }, { ratio: Number.NaN }, new Map([[1, 2]]), new Wallet()]) {
      await expect(cache.set('odd', value)).rejects.toBeInstanceOf(CacheSerializationError);
      expect(await cache.get('odd')).toBeUndefined();
      expect(holdsEntry(await tracker.redis.get(`${namespace}:odd`))).toBe(false);
    }
  });

  it('returns a @CacheWrite result that holds only #private state, caching it nowhere', async () => {
    const { users, cache } = await boot();
    const wallet = await users.wallet();
    expect(wallet.balance()).toBe(10);
    expect(await cache.get('wallet')).toBeUndefined();
  });
});
