import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor, Optional, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { type Observable, lastValueFrom, of } from 'rxjs';
import { LayeredCacheError } from '../../core/errors.js';
import { isPromiseLike } from '../../core/promise-or-value.js';
import { validTtl } from '../../core/ttl.js';
import { type GetOrSetOptions, LayeredCache } from '../../engine/layered-cache.js';
import { getLayeredCacheToken } from '../layered-cache.constants.js';
import { INVALID_ROUTE_CACHE_TTL } from '../layered-cache.messages.js';
import type { CacheKeyFactory } from './cache-key.decorator.js';
import type { CacheTTLFactory } from './cache-ttl.decorator.js';
import { CACHE_KEY_METADATA, CACHE_TTL_METADATA } from './http-cache.constants.js';
import { sendsOwnResponse } from './own-response.js';

/** What the request objects of Express and Fastify have in common, as far as the key needs. */
interface HttpRequestLike {
  method?: string;
  originalUrl?: string;
  url?: string;
}

/**
 * Thrown by the load of a response that must not be cached or shared (a `StreamableFile`: its stream can be
 * read once, by one response). Not an `Error`: it is control flow that never leaves the interceptor.
 */
class UnsharedResponse {
  constructor(readonly body: unknown) {}
}

/** The interceptor classes made by `for(name)`, per class and cache name, so that Nest sees one class for each. */
const namedInterceptors = new WeakMap<typeof LayeredCacheInterceptor, Map<string, typeof LayeredCacheInterceptor>>();

/**
 * Caches the responses of GET routes in a `LayeredCache` (L1 in process, L2 in Redis): the drop-in for
 * `CacheInterceptor` of `@nestjs/cache-manager`. Bind it with `@UseInterceptors(LayeredCacheInterceptor)` on
 * a controller or a route, or globally as `APP_INTERCEPTOR`.
 *
 * - The key is the request URL (path and query, as Nest's `CacheInterceptor` has it), or the route's
 *   `@CacheKey`; override {@link trackBy} in a subclass to key otherwise. The cache's namespace prefixes it.
 * - `@CacheTTL(ms)` on the route or its controller sets the time to live; `@CacheKey` and `@CacheTTL` of
 *   this package and of `@nestjs/cache-manager` are both read (they share their metadata).
 * - Concurrent misses of one key run the handler once: the response is loaded through
 *   `LayeredCache.getOrSet`, with its single flight and ordering guarantees (a `delete` of the key while the
 *   handler runs wins over the response).
 * - Only what the handler returns is cached (the body), never an error, never a request other than GET,
 *   never a route that sends its own response (`@Res()`, `@Next()`, `@Sse()`) or returns a
 *   `StreamableFile`. Status codes and headers set with `@HttpCode()` and `@Header()` apply to hits as well;
 *   headers a handler sets on the response object do not, which is why such routes are left alone.
 * - Each cached response says `X-Cache: HIT` when this request's handler did not run, `MISS` when it did.
 *
 * For a named cache, bind `LayeredCacheInterceptor.for(name)`.
 *
 * @example
 * \@Controller('items')
 * \@UseInterceptors(LayeredCacheInterceptor)
 * export class ItemsController {
 *   \@Get()
 *   \@CacheTTL(5_000)
 *   findAll() { return this.items.findAll(); }
 * }
 */
@Injectable()
export class LayeredCacheInterceptor implements NestInterceptor {
  /** Request methods whose responses are cached (as Nest's `CacheInterceptor`: GET only). */
  protected allowedMethods: readonly string[] = ['GET'];

  constructor(
    @Inject(getLayeredCacheToken()) protected readonly cache: LayeredCache,
    @Inject(Reflector) protected readonly reflector: Reflector,
    // Nest provides it in every application; its adapter is undefined in one without HTTP.
    @Optional() @Inject(HttpAdapterHost) protected readonly httpAdapterHost: HttpAdapterHost,
  ) {}

  /**
   * The interceptor of the same behaviour (and of a subclass's overrides, when called on a subclass) on
   * the named cache `name` (`forRoot({ name })`), injected under `getLayeredCacheToken(name)`. One class per
   * name and class, so it can be bound in many places.
   *
   * @example
   * \@UseInterceptors(LayeredCacheInterceptor.for('reports'))
   */
  static for<T extends typeof LayeredCacheInterceptor>(this: T, name: string): T {
    let byName = namedInterceptors.get(this);
    if (byName === undefined) {
      byName = new Map();
      namedInterceptors.set(this, byName);
    }
    let interceptor = byName.get(name);
    if (interceptor === undefined) {
      interceptor = namedInterceptor(this, name);
      byName.set(name, interceptor);
    }
    return interceptor as T;
  }

  /** Answers a cacheable request from the cache, or runs its handler (once for concurrent misses) and caches what it returns. */
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http' || !this.isRequestCacheable(context) || sendsOwnResponse(context)) return next.handle();
    const key = await this.trackBy(context);
    if (typeof key !== 'string' || key === '') return next.handle();
    const options = await this.cacheOptions(context);
    // Set when the load runs this request's own handler; any other answer came from the cache or from the
    // handler of a concurrent request of the same key.
    let ran = false;
    let body: unknown;
    try {
      body = await this.cache.getOrSet(
        key,
        async () => {
          ran = true;
          const response = await lastValueFrom(next.handle(), { defaultValue: undefined });
          if (response instanceof StreamableFile) throw new UnsharedResponse(response);
          return response;
        },
        options,
      );
    } catch (error) {
      if (!(error instanceof UnsharedResponse)) throw error;
      if (!ran) {
        // Another request's handler returned a stream: this request needs one of its own.
        this.setCacheStatusHeader(context, false);
        return next.handle();
      }
      body = error.body;
    }
    this.setCacheStatusHeader(context, !ran);
    return of(body);
  }

  /**
   * The cache key of the request: the route's `@CacheKey` (a string, or a function of the context), else the
   * request URL with its query string, as the HTTP adapter reports it (Express `originalUrl`, Fastify's raw
   * URL). `undefined`, `null` or `''` serves the request without the cache. Override to key otherwise, for
   * instance to leave paths out or to add a tenant.
   */
  protected trackBy(context: ExecutionContext): string | null | undefined | Promise<string | null | undefined> {
    const key = this.reflector.get<string | CacheKeyFactory | undefined>(CACHE_KEY_METADATA, context.getHandler());
    if (key) return typeof key === 'function' ? key(context) : key;
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const adapter = this.httpAdapterHost?.httpAdapter;
    return adapter === undefined ? (request.originalUrl ?? request.url) : adapter.getRequestUrl(request);
  }

  /** Whether the request's response may be cached at all: by default, when its method is in {@link allowedMethods}. */
  protected isRequestCacheable(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const adapter = this.httpAdapterHost?.httpAdapter;
    const method = adapter === undefined ? request.method : adapter.getRequestMethod(request);
    return method !== undefined && this.allowedMethods.includes(method);
  }

  /**
   * The options of the request's `getOrSet`: by default its `ttl`, from `@CacheTTL` on the route or else on
   * its controller (the cache's own `ttl` without either). Override to add other options of `getOrSet`, such
   * as `singleFlight: 'distributed'` (instances that miss a URL at once run its handler once in all) or
   * `tags`. Throws a `LayeredCacheError` naming the route for a TTL that is not a number of milliseconds.
   */
  protected cacheOptions(context: ExecutionContext): GetOrSetOptions | Promise<GetOrSetOptions> {
    const ttl =
      this.reflector.get<number | CacheTTLFactory | null | undefined>(CACHE_TTL_METADATA, context.getHandler()) ??
      this.reflector.get<number | CacheTTLFactory | null | undefined>(CACHE_TTL_METADATA, context.getClass());
    if (typeof ttl !== 'function') return ttlOption(context, ttl);
    const computed = ttl(context);
    return isPromiseLike(computed) ? Promise.resolve(computed).then((value) => ttlOption(context, value)) : ttlOption(context, computed);
  }

  /** Says whether the response came from the cache (`X-Cache: HIT`) or from this request's handler (`MISS`), as Nest's interceptor does. */
  protected setCacheStatusHeader(context: ExecutionContext, hit: boolean): void {
    const adapter = this.httpAdapterHost?.httpAdapter;
    if (adapter === undefined) return;
    adapter.setHeader(context.switchToHttp().getResponse(), 'X-Cache', hit ? 'HIT' : 'MISS');
  }
}

/** `{ ttl }` for a route's TTL (declared, or computed by a `@CacheTTL` factory); none (the cache's own) for `undefined` or `null`. */
function ttlOption(context: ExecutionContext, ttl: number | null | undefined): GetOrSetOptions {
  return ttl === undefined || ttl === null ? {} : { ttl: routeTtl(context, ttl) };
}

/** A route's TTL, checked, with an error that names the route. */
function routeTtl(context: ExecutionContext, ttl: unknown): number {
  try {
    return validTtl(ttl);
  } catch {
    throw new LayeredCacheError(INVALID_ROUTE_CACHE_TTL(`${context.getClass().name}.${context.getHandler().name}`, ttl));
  }
}

/** A subclass of `base` that injects the named cache's `LayeredCache` in place of the default one. */
function namedInterceptor(base: typeof LayeredCacheInterceptor, name: string): typeof LayeredCacheInterceptor {
  @Injectable()
  class NamedLayeredCacheInterceptor extends base {
    constructor(
      @Inject(getLayeredCacheToken(name)) cache: LayeredCache,
      @Inject(Reflector) reflector: Reflector,
      @Optional() @Inject(HttpAdapterHost) httpAdapterHost: HttpAdapterHost,
    ) {
      super(cache, reflector, httpAdapterHost);
    }
  }
  // Nest names the class in its errors (a missing provider, for one): say which cache it is for.
  Object.defineProperty(NamedLayeredCacheInterceptor, 'name', { value: `${base.name}(${name})` });
  return NamedLayeredCacheInterceptor;
}
