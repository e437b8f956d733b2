import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { LayeredCache, type LayeredCacheStats } from '../../../lib';

@Controller('cache')
export class CacheStatsController {
  constructor(private readonly cache: LayeredCache) {}

  /** Hits and misses per layer, writes, refills, errors and the offload service's counts. */
  @Get('stats')
  stats(): LayeredCacheStats {
    return this.cache.stats();
  }

  /** Empties the cache of the app's namespace, in Redis and in the memory of every instance. */
  @Delete()
  @HttpCode(204)
  clear(): Promise<void> {
    return this.cache.clear();
  }
}
