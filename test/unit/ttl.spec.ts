import { describe, expect, it } from 'vitest';
import { Cacheable, CacheWrite, LayeredCacheError } from '../../lib';
import { MAX_TTL_MS, validTtl } from '../../lib/core/ttl';
import { CACHED_METHOD_METADATA } from '../../lib/nest/layered-cache.constants';
import type { CachedMethodDefinition } from '../../lib/nest/decorators/cached-method.definition';

describe('validTtl', () => {
  it('rounds a fractional TTL up to a whole millisecond', () => {
    expect(validTtl(1500.5)).toBe(1501);
    expect(validTtl(1500.0001)).toBe(1501);
    expect(validTtl(1500)).toBe(1500);
  });

  it('never turns a tiny positive TTL into 0, which would mean "never expires"', () => {
    expect(validTtl(0.001)).toBe(1);
    expect(validTtl(Number.MIN_VALUE)).toBe(1);
  });

  it('keeps 0 (never expires), also when given as -0', () => {
    expect(validTtl(0)).toBe(0);
    expect(Object.is(validTtl(-0), 0)).toBe(true);
  });

  it('accepts TTLs up to 100 years, whose expiry stays an exact integer', () => {
    expect(MAX_TTL_MS).toBe(3_153_600_000_000);
    expect(validTtl(MAX_TTL_MS)).toBe(MAX_TTL_MS);
    expect(Number.isSafeInteger(Date.now() + MAX_TTL_MS)).toBe(true);
    expect(Number.isNaN(new Date(Date.now() + MAX_TTL_MS).getTime())).toBe(false);
  });

  it.each([
    ['a negative number', -1],
    ['a tiny negative number', -0.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['more than 100 years', MAX_TTL_MS + 1],
    ['Number.MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['a numeric string', '1000'],
    ['a bigint', 1000n],
    ['null', null],
    ['an object', { ms: 1000 }],
  ])('refuses %s with a LayeredCacheError that gives the unit, the range and what to pass', (_label, ttl) => {
    let thrown: unknown;
    try {
      validTtl(ttl);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LayeredCacheError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^Invalid ttl /);
    expect(message).toContain('milliseconds');
    expect(message).toContain('from 0 to 3153600000000 (100 years)');
    expect(message).toContain("or a string with its unit ('500ms', '30s', '5m', '2h', '1d')");
    expect(message).toContain('Pass a value in that range');
  });

  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['0s', 0],
    ['0.0001s', 1],
  ])('takes the duration %s as %i ms', (text, ms) => {
    expect(validTtl(text)).toBe(ms);
  });

  it.each([['30'], ['30 s'], ['30sec'], ['-1s'], ['1e3ms'], [''], ['s'], ['36501d']])('refuses the string %j, which is not a duration in range', (text) => {
    expect(() => validTtl(text)).toThrow(LayeredCacheError);
    expect(() => validTtl(text)).toThrow(`Invalid ttl ${JSON.stringify(text)} (string)`);
  });

  it('quotes a string TTL so that it does not read like a number', () => {
    expect(() => validTtl('1000')).toThrow('Invalid ttl "1000" (string)');
  });
});

describe('decorator ttl option', () => {
  function definitionOf(target: object, name: string): CachedMethodDefinition {
    const method = (target as Record<string, unknown>)[name] as object;
    return (Reflect.getMetadata(CACHED_METHOD_METADATA, method) as CachedMethodDefinition[])[0];
  }

  it('stores a fractional ttl rounded up, so the method caches for whole milliseconds', () => {
    class Service {
      @Cacheable({ key: 'k', ttl: 1500.5 })
      async load(): Promise<number> {
        return 1;
      }
    }
    const definition = definitionOf(Service.prototype, 'load');
    expect(definition.kind === 'cacheable' && definition.options.ttl).toBe(1501);
  });

  it('stores a duration string as milliseconds', () => {
    class Service {
      @Cacheable({ key: 'k', ttl: '30s' })
      async load(): Promise<number> {
        return 1;
      }
    }
    const definition = definitionOf(Service.prototype, 'load');
    expect(definition.kind === 'cacheable' && definition.options.ttl).toBe(30_000);
  });

  it('refuses an unusable ttl when the class is declared, naming the decorator', () => {
    const declare = (ttl: number) => {
      class Service {
        @CacheWrite({ key: 'k', ttl })
        async save(): Promise<number> {
          return 1;
        }
      }
      return Service;
    };
    expect(() => declare(Number.MAX_SAFE_INTEGER)).toThrow(LayeredCacheError);
    expect(() => declare(Number.MAX_SAFE_INTEGER)).toThrow(/@CacheWrite got ttl 9007199254740991 \(number\): ttl is a number of milliseconds from 0 to 3153600000000/);
    expect(() => declare(-5)).toThrow(/@CacheWrite got ttl -5/);
    expect(() => declare(1000)).not.toThrow();
  });
});
