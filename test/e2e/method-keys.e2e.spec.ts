import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Cacheable, L1_STORE, type CacheStore, LayeredCacheModule } from '../../lib';
import { createTestApp } from '../support/app';
import { uniqueNamespace } from '../support/redis';

interface Row {
  readonly table: string;
  readonly id: string;
}

/** A generic repository whose cached lookup is inherited by every table's repository. */
abstract class BaseRepository {
  abstract readonly table: string;
  calls = 0;

  @Cacheable()
  async findById(id: string): Promise<Row> {
    this.calls++;
    return { table: this.table, id };
  }
}

@Injectable()
class UsersRepository extends BaseRepository {
  readonly table = 'users';
}

@Injectable()
class OrdersRepository extends BaseRepository {
  readonly table = 'orders';
}

@Module({ providers: [UsersRepository, OrdersRepository] })
class RepositoriesModule {}

async function bootL1Only(imports: NonNullable<Parameters<typeof createTestApp>[0]['imports']>) {
  const namespace = uniqueNamespace('method-keys');
  const app = await createTestApp({ cache: { namespace, l2: false }, imports });
  return { app, namespace, l1: app.get<CacheStore>(L1_STORE) };
}

describe('default keys of inherited methods', () => {
  it('caches an inherited method per class of the instance, so one repository never answers for another', async () => {
    const { app, namespace, l1 } = await bootL1Only([RepositoriesModule]);
    const users = app.get(UsersRepository);
    const orders = app.get(OrdersRepository);

    expect(await users.findById('1')).toEqual({ table: 'users', id: '1' });
    expect(await orders.findById('1')).toEqual({ table: 'orders', id: '1' });
    expect(await users.findById('1')).toEqual({ table: 'users', id: '1' });
    expect(await orders.findById('1')).toEqual({ table: 'orders', id: '1' });
    expect([users.calls, orders.calls]).toEqual([1, 1]);

    expect((await l1.get(`${namespace}:UsersRepository.findById:("1")`))?.value).toEqual({ table: 'users', id: '1' });
    expect((await l1.get(`${namespace}:OrdersRepository.findById:("1")`))?.value).toEqual({ table: 'orders', id: '1' });
    await app.close();
  });
});

/** A class named Repo, distinct on each call: as when two files each declare their own `class Repo`. */
function declareRepo(keyed: boolean) {
  @Injectable()
  class Repo {
    @Cacheable(keyed ? { key: (id: string) => `repo:${id}` } : {})
    async find(id: string): Promise<string> {
      return id;
    }
  }
  return Repo;
}

describe('two distinct classes with the same name', () => {
  it('refuses at startup to serve both with default keys, naming where each is provided and how to fix it', async () => {
    const UsersRepo = declareRepo(false);
    const OrdersRepo = declareRepo(false);
    @Module({ providers: [UsersRepo], exports: [UsersRepo] })
    class UsersModule {}
    @Module({ providers: [OrdersRepo], exports: [OrdersRepo] })
    class OrdersModule {}
    const moduleRef = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot({ isGlobal: true, l2: false }), UsersModule, OrdersModule] }).compile();
    moduleRef.useLogger(false);

    const failure = moduleRef.init();

    await expect(failure).rejects.toThrow(/Two distinct classes are named Repo \(one provided by module UsersModule, the other provided by module OrdersModule\)/);
    await expect(failure).rejects.toThrow(/Rename one of the classes, or give the cache decorators of one of them a "key" option\./);
  });

  it('serves both when one of them gives its decorators a key', async () => {
    const UsersRepo = declareRepo(false);
    const OrdersRepo = declareRepo(true);
    @Module({ providers: [UsersRepo] })
    class UsersModule {}
    @Module({ providers: [OrdersRepo] })
    class OrdersModule {}
    const { app, namespace, l1 } = await bootL1Only([UsersModule, OrdersModule]);

    expect(await app.get(UsersRepo).find('a')).toBe('a');
    expect(await app.get(OrdersRepo).find('b')).toBe('b');
    expect(await l1.get(`${namespace}:Repo.find:("a")`)).toBeDefined();
    expect(await l1.get(`${namespace}:repo:b`)).toBeDefined();
    await app.close();
  });
});

describe('result types @Cacheable cannot serve', () => {
  async function startupError(provider: new () => object): Promise<unknown> {
    const moduleRef = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot({ isGlobal: true, l2: false })], providers: [provider] }).compile();
    moduleRef.useLogger(false);
    return moduleRef.init().then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it('refuses at startup a method without a return type annotation that is not async, instead of turning its result into a Promise', async () => {
    @Injectable()
    class Unannotated {
      @Cacheable()
      load() {
        return 1;
      }
    }
    const error = await startupError(Unannotated);
    expect(String(error)).toMatch(/@Cacheable on Unannotated\.load cannot be served: the method is not async and has no recorded return type/);
    expect(String(error)).toMatch(/Make the method async, or annotate its return type as ": Promise<T>" or ": Observable<T>"/);
  });

  it('refuses at startup a method annotated void', async () => {
    @Injectable()
    class Fire {
      @Cacheable()
      load(): void {}
    }
    expect(String(await startupError(Fire))).toMatch(/@Cacheable on Fire\.load cannot be served: the method is not async/);
  });

  it('serves an async method whose class carries no decorator metadata (esbuild, or a decorator applied by hand)', async () => {
    class Plain {
      calls = 0;
      async load(): Promise<number> {
        this.calls++;
        return 7;
      }
    }
    // Applied by hand: TypeScript emits no design:returntype for it, so only the method being async tells.
    const descriptor = Object.getOwnPropertyDescriptor(Plain.prototype, 'load')!;
    Object.defineProperty(Plain.prototype, 'load', Cacheable({ key: 'plain' })(Plain.prototype, 'load', descriptor) as PropertyDescriptor);
    expect(Reflect.getMetadata('design:returntype', Plain.prototype, 'load')).toBeUndefined();
    Injectable()(Plain);
    @Module({ providers: [Plain] })
    class PlainModule {}

    const { app } = await bootL1Only([PlainModule]);
    const plain = app.get(Plain);
    expect(await plain.load()).toBe(7);
    expect(await plain.load()).toBe(7);
    expect(plain.calls).toBe(1);
    await app.close();
  });

  it('serves an async method without a return type annotation', async () => {
    @Injectable()
    class Inferred {
      calls = 0;
      @Cacheable({ key: 'inferred' })
      async load() {
        this.calls++;
        return 'v';
      }
    }
    @Module({ providers: [Inferred] })
    class InferredModule {}
    const { app } = await bootL1Only([InferredModule]);
    const inferred = app.get(Inferred);
    expect(await inferred.load()).toBe('v');
    expect(await inferred.load()).toBe('v');
    expect(inferred.calls).toBe(1);
    await app.close();
  });
});
