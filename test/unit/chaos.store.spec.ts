import { describe, expect, it } from 'vitest';
import { createCacheEntry, LayeredCacheError, MemoryStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { ChaosError } from '../../lib/testing';

/** A deterministic random source cycling through `values`. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe('ChaosStore', () => {
  it('passes everything through when no fault is set', async () => {
    const inner = new MemoryStore();
    const chaos = new ChaosStore(inner);
    await chaos.set('k', createCacheEntry(1, 0), undefined);
    expect((await chaos.get('k'))?.value).toBe(1);
    await chaos.delete('k');
    expect(await inner.get('k')).toBeUndefined();
    expect(chaos.stats()).toEqual({ calls: 3, failures: 0, delayed: 0, hanging: 0 });
  });

  it('fails at the configured rate with a ChaosError that says it is a test fault', async () => {
    const chaos = new ChaosStore(new MemoryStore(), { failureRate: 0.5, random: sequence(0.1, 0.9) });
    const first = await chaos.get('k').catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ChaosError);
    expect((first as ChaosError).message).toMatch(/injected a failure into get of "k".*recover\(\)/);
    await expect(chaos.get('k')).resolves.toBeUndefined();
    expect(chaos.stats().failures).toBe(1);
  });

  it('uses the error factory and touches only the chosen operations', async () => {
    const chaos = new ChaosStore(new MemoryStore(), {
      failureRate: 1,
      operations: ['set'],
      errorFactory: (operation, key) => new Error(`ECONNRESET on ${operation} ${key}`),
    });
    await expect(chaos.set('k', createCacheEntry(1, 0), undefined)).rejects.toThrow('ECONNRESET on set k');
    await expect(chaos.get('k')).resolves.toBeUndefined();
  });

  it('adds latency from a fixed value or a range', async () => {
    const chaos = new ChaosStore(new MemoryStore(), { latencyMs: [30, 50], random: () => 0.5 });
    const started = performance.now();
    await chaos.get('k');
    expect(performance.now() - started).toBeGreaterThanOrEqual(38);
    expect(chaos.stats().delayed).toBe(1);
  });

  it('hangs until recover(), then lets the hanging calls reach the wrapped store', async () => {
    const inner = new MemoryStore();
    const chaos = new ChaosStore(inner).hang();
    let settled = false;
    const write = chaos.set('k', createCacheEntry('v', 0), undefined).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
    expect(chaos.stats().hanging).toBe(1);
    chaos.recover();
    await write;
    expect((await inner.get('k'))?.value).toBe('v');
    expect(chaos.stats().hanging).toBe(0);
  });

  it('rejects hanging calls when closed', async () => {
    const chaos = new ChaosStore(new MemoryStore(), { hang: true });
    const read = chaos.get('k');
    await chaos.close();
    await expect(read).rejects.toThrow(/closed while get of "k" was hanging/);
  });

  it('changes faults at run time: fail, slow, recover', async () => {
    const chaos = new ChaosStore(new MemoryStore());
    chaos.fail();
    await expect(chaos.get('k')).rejects.toBeInstanceOf(ChaosError);
    chaos.recover().slow(1);
    await expect(chaos.get('k')).resolves.toBeUndefined();
    expect(chaos.stats().delayed).toBe(1);
  });

  it.each([
    [{ failureRate: 2 }, /failureRate.*from 0 to 1/],
    [{ failureRate: Number.NaN }, /failureRate/],
    [{ latencyMs: -1 }, /latencyMs/],
    [{ latencyMs: [20, 10] as const }, /latencyMs.*\[20, 10\]/],
  ])('rejects %o', (options, message) => {
    expect(() => new ChaosStore(new MemoryStore(), options)).toThrow(LayeredCacheError);
    expect(() => new ChaosStore(new MemoryStore(), options)).toThrow(message);
  });
});
