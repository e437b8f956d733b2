import { Injectable } from '@nestjs/common';
import { Cacheable } from '../../lib';
import { type BenchItem, makeItem, sleep } from '../fixtures';

/** Delay of the slow source behind the stampede method, in milliseconds. */
export const SLOW_SOURCE_MS = 2;

/** A service whose methods are cached the way the README shows. */
@Injectable()
export class ItemService {
  /** Calls that reached the method body (cache misses). */
  sourceCalls = 0;

  @Cacheable({ key: (id: number) => `item:${id}` })
  async find(id: number): Promise<BenchItem> {
    this.sourceCalls++;
    return makeItem(id);
  }

  @Cacheable({ key: (id: number) => `slow-item:${id}` })
  async findSlowly(id: number): Promise<BenchItem> {
    this.sourceCalls++;
    await sleep(SLOW_SOURCE_MS);
    return makeItem(id);
  }
}
