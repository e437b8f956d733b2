import { Injectable, Module } from '@nestjs/common';
import { finalize, firstValueFrom, Observable, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CacheEvict, CacheWrite, Cacheable, L1_STORE, type CacheStore, LayeredCache } from '../../lib';
import { createTestApp } from '../support/app';
import { uniqueNamespace } from '../support/redis';

/** A stream the test drives by hand, counting subscriptions and teardowns of its source. */
class Feed {
  subject = new Subject<number>();
  calls = 0;
  subscriptions = 0;
  teardowns = 0;

  source(): Observable<number> {
    this.calls++;
    return new Observable<number>((subscriber) => {
      this.subscriptions++;
      const inner = this.subject.subscribe(subscriber);
      return () => inner.unsubscribe();
    }).pipe(finalize(() => this.teardowns++));
  }
}

@Injectable()
class Prices {
  readonly feed = new Feed();
  readonly written = new Feed();
  readonly evicted = new Feed();

  @Cacheable({ key: 'price', hardTimeoutMs: 200 })
  price(): Observable<number> {
    return this.feed.source();
  }

  @CacheWrite({ key: 'price' })
  publish(): Observable<number> {
    return this.written.source();
  }

  @CacheEvict({ key: 'price' })
  retire(): Observable<number> {
    return this.evicted.source();
  }
}

@Module({ providers: [Prices] })
class PricesModule {}

async function boot() {
  const namespace = uniqueNamespace('observable');
  const app = await createTestApp({ cache: { namespace, l2: false }, imports: [PricesModule] });
  const l1 = app.get<CacheStore>(L1_STORE);
  return { app, prices: app.get(Prices), cache: app.get(LayeredCache), cached: async () => (await l1.get(`${namespace}:price`))?.value };
}

const turn = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes and records what arrives. */
function watch<T>(source: Observable<T>) {
  const seen = { values: [] as T[], completed: false, error: undefined as unknown };
  const subscription = source.subscribe({
    next: (value) => seen.values.push(value),
    complete: () => (seen.completed = true),
    error: (error: unknown) => (seen.error = error),
  });
  return { seen, subscription };
}

describe('@Cacheable on a method that returns an Observable', () => {
  it('does not cache the result of a source that a delete of its key overtook, and a later call runs the method again', async () => {
    const { app, prices, cache, cached } = await boot();
    const first = watch(prices.price());
    await turn();
    prices.feed.subject.next(1);
    await cache.delete('price');
    const second = watch(prices.price());
    await turn();
    expect(prices.feed.calls).toBe(2);
    prices.feed.subject.next(2);
    prices.feed.subject.complete();
    await turn(10);
    expect(first.seen).toMatchObject({ values: [1, 2], completed: true });
    expect(second.seen).toMatchObject({ values: [2], completed: true });
    expect(await cached()).toBe(2);
    await app.close();
  });

  it('delivers every emission of a miss as it happens and caches the last one on completion', async () => {
    const { app, prices, cached } = await boot();
    const { seen } = watch(prices.price());
    await turn();

    prices.feed.subject.next(1);
    expect(seen.values).toEqual([1]);
    prices.feed.subject.next(2);
    expect(seen.values).toEqual([1, 2]);
    expect(await cached()).toBeUndefined();

    prices.feed.subject.next(3);
    prices.feed.subject.complete();
    await turn();
    expect(seen).toMatchObject({ values: [1, 2, 3], completed: true });
    expect(await cached()).toBe(3);

    expect(await firstValueFrom(prices.price().pipe(toArray()))).toEqual([3]);
    expect(prices.feed.calls).toBe(1);
    await app.close();
  });

  it('shares one source subscription between callers that miss the same key while it runs, replaying earlier emissions to a late one', async () => {
    const { app, prices } = await boot();
    const first = watch(prices.price());
    await turn();
    prices.feed.subject.next(1);
    const second = watch(prices.price());
    await turn();
    prices.feed.subject.next(2);
    prices.feed.subject.complete();
    await turn();

    expect(first.seen).toMatchObject({ values: [1, 2], completed: true });
    expect(second.seen).toMatchObject({ values: [1, 2], completed: true });
    expect([prices.feed.calls, prices.feed.subscriptions]).toEqual([1, 1]);
    await app.close();
  });

  it('does not cache a source that errors, and runs the method again on the next call', async () => {
    const { app, prices, cached } = await boot();
    const failing = watch(prices.price());
    await turn();
    prices.feed.subject.next(1);
    prices.feed.subject.error(new Error('feed down'));
    await turn();
    expect(failing.seen.values).toEqual([1]);
    expect(String(failing.seen.error)).toContain('feed down');
    expect(await cached()).toBeUndefined();

    prices.feed.subject = new Subject<number>();
    const retry = watch(prices.price());
    await turn();
    prices.feed.subject.next(5);
    prices.feed.subject.complete();
    await turn();
    expect(retry.seen).toMatchObject({ values: [5], completed: true });
    expect(prices.feed.calls).toBe(2);
    expect(await cached()).toBe(5);
    await app.close();
  });

  it('stops waiting for a source that does not complete within hardTimeoutMs: later calls run the method again and its result is not cached', async () => {
    const { app, prices, cache, cached } = await boot();
    const errors: string[] = [];
    const events = cache.events$.subscribe((event) => event.type === 'error' && errors.push(event.error.message));
    const stuck = prices.feed.subject;
    const slow = watch(prices.price());
    await turn();
    stuck.next(1);

    await turn(300);
    prices.feed.subject = new Subject<number>();
    const later = watch(prices.price());
    await turn();
    expect(prices.feed.calls).toBe(2);

    // The slow source still reaches its subscriber, but its completion is not cached.
    stuck.next(2);
    stuck.complete();
    await turn();
    expect(slow.seen).toMatchObject({ values: [1, 2], completed: true });
    expect(await cached()).toBeUndefined();
    expect(errors[0]).toMatch(/Prices\.price did not complete within 200 ms \(hardTimeoutMs\), so its result will not be cached/);

    prices.feed.subject.next(9);
    prices.feed.subject.complete();
    await turn();
    expect(later.seen).toMatchObject({ values: [9], completed: true });
    expect(await cached()).toBe(9);
    events.unsubscribe();
    await app.close();
  });

  it('tears the source down when its only subscriber unsubscribes, caching nothing, so the next call subscribes afresh', async () => {
    const { app, prices, cached } = await boot();
    const { subscription } = watch(prices.price());
    await turn();
    prices.feed.subject.next(1);
    subscription.unsubscribe();
    expect(prices.feed.teardowns).toBe(1);
    prices.feed.subject.complete();
    await turn();
    expect(await cached()).toBeUndefined();

    prices.feed.subject = new Subject<number>();
    const next = watch(prices.price());
    await turn();
    expect([prices.feed.calls, prices.feed.subscriptions]).toEqual([2, 2]);
    next.subscription.unsubscribe();
    expect(prices.feed.teardowns).toBe(2);
    await app.close();
  });

  it('keeps a shared source running until its last subscriber unsubscribes', async () => {
    const { app, prices } = await boot();
    const first = watch(prices.price());
    const second = watch(prices.price());
    await turn();
    first.subscription.unsubscribe();
    expect(prices.feed.teardowns).toBe(0);
    prices.feed.subject.next(4);
    expect(second.seen.values).toEqual([4]);
    second.subscription.unsubscribe();
    expect(prices.feed.teardowns).toBe(1);
    await app.close();
  });

  it('never subscribes the source when the subscriber leaves before the cache answered', async () => {
    const { app, prices } = await boot();
    watch(prices.price()).subscription.unsubscribe();
    await turn();
    expect(prices.feed.subscriptions).toBe(0);
    await app.close();
  });
});

describe('@CacheWrite and @CacheEvict on methods that return an Observable', () => {
  it('@CacheWrite passes every emission through as it happens and writes the last one on completion', async () => {
    const { app, prices, cached } = await boot();
    const { seen } = watch(prices.publish());
    prices.written.subject.next(10);
    expect(seen.values).toEqual([10]);
    prices.written.subject.next(11);
    expect(seen.values).toEqual([10, 11]);
    expect(await cached()).toBeUndefined();
    prices.written.subject.complete();
    await turn();
    expect(seen.completed).toBe(true);
    expect(await cached()).toBe(11);
    await app.close();
  });

  it('@CacheWrite tears the source down on unsubscribe and writes nothing', async () => {
    const { app, prices, cached } = await boot();
    const { subscription } = watch(prices.publish());
    prices.written.subject.next(10);
    subscription.unsubscribe();
    expect(prices.written.teardowns).toBe(1);
    prices.written.subject.complete();
    await turn();
    expect(await cached()).toBeUndefined();
    await app.close();
  });

  it('@CacheEvict passes every emission through and deletes the key on completion, not before', async () => {
    const { app, prices, cache, cached } = await boot();
    await cache.set('price', 1);
    const { seen } = watch(prices.retire());
    prices.evicted.subject.next(7);
    prices.evicted.subject.next(8);
    expect(seen.values).toEqual([7, 8]);
    await turn();
    expect(await cached()).toBe(1);
    prices.evicted.subject.complete();
    await turn();
    expect(seen.completed).toBe(true);
    expect(await cached()).toBeUndefined();
    await app.close();
  });

  it('@CacheEvict tears the source down on unsubscribe and keeps the entry', async () => {
    const { app, prices, cache, cached } = await boot();
    await cache.set('price', 1);
    const { subscription } = watch(prices.retire());
    subscription.unsubscribe();
    expect(prices.evicted.teardowns).toBe(1);
    prices.evicted.subject.complete();
    await turn();
    expect(await cached()).toBe(1);
    await app.close();
  });
});
