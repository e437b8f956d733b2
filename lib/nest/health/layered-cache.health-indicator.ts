import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { LayeredCache } from '../../engine/layered-cache.js';
import { getLayeredCacheToken } from '../layered-cache.constants.js';
import { HEALTH_CACHE_NOT_FOUND } from '../layered-cache.messages.js';
import { type CacheHealthReport, type CacheHealthThresholds, inspectCacheHealth } from '../../engine/cache-health.js';

/** Options of {@link LayeredCacheHealthIndicator.isHealthy}. Every field is optional. */
export interface LayeredCacheHealthOptions extends CacheHealthThresholds {
  /** The cache to check: the name given to `forRoot({ name })`, or a `LayeredCache`. Default: the application's default cache. */
  cache?: string | LayeredCache;
  /**
   * Whether L2 not answering, or its circuit breaker being open, makes the cache unhealthy. Default `true`.
   * `false` reports it in the details with status `degraded` (with Terminus 12; `up` with Terminus 11): the
   * cache keeps serving from L1 meanwhile, and a liveness probe should not restart every instance when Redis
   * is down. The backlog thresholds still report `down`.
   */
  l2Required?: boolean;
}

/**
 * A Terminus health indicator for a `LayeredCache`: L1's size, one bounded ping of L2 (past the circuit
 * breaker, so it tells whether L2 answers now), the breaker's state, and the replay and offload backlogs.
 * `down` when L2 does not answer within `timeoutMs`, when the breaker is open, or when a backlog is above
 * its threshold, with a `message` that says why. Add it to the providers of a module that imports
 * `TerminusModule`; it finds the cache wherever `LayeredCacheModule` is registered.
 *
 * @example
 * \@Controller('health')
 * class HealthController {
 *   constructor(private readonly health: HealthCheckService, private readonly cache: LayeredCacheHealthIndicator) {}
 *
 *   \@Get() \@HealthCheck()
 *   check() {
 *     return this.health.check([() => this.cache.isHealthy('cache', { maxReplayBacklog: 1_000 })]);
 *   }
 * }
 */
@Injectable()
export class LayeredCacheHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * The health of the cache under `key` in the Terminus result. Rejects only for invalid options or a cache
   * that cannot be found.
   */
  async isHealthy<const Key extends string>(key: Key, options: LayeredCacheHealthOptions = {}): Promise<HealthIndicatorResult<Key>> {
    const session = this.health.check(key);
    const report = await inspectCacheHealth(this.cacheOf(options.cache), options);
    const details = detailsOf(report);
    if (report.problems.length === 0) return session.up(details);
    const failed = { ...details, message: report.problems.join(' ') };
    if (options.l2Required !== false || !report.onlyL2) return session.down(failed);
    // Terminus 11 has no `degraded`; the details still say what is wrong.
    return typeof session.degraded === 'function' ? session.degraded(failed) : session.up(failed);
  }

  private cacheOf(cache: string | LayeredCache | undefined): LayeredCache {
    if (cache instanceof LayeredCache) return cache;
    let found: unknown;
    try {
      found = this.moduleRef.get(getLayeredCacheToken(cache), { strict: false });
    } catch {
      found = undefined;
    }
    if (!(found instanceof LayeredCache)) throw new Error(HEALTH_CACHE_NOT_FOUND(cache));
    return found;
  }
}

/** The report as Terminus details (plain data; `status` is Terminus's own key). */
function detailsOf(report: CacheHealthReport): Record<string, unknown> {
  return {
    l1: report.l1,
    l2: report.l2,
    ...(report.breaker === undefined ? {} : { breaker: report.breaker }),
    replayBacklog: report.replayBacklog,
    offloadBacklog: report.offloadBacklog,
  };
}
