import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../../lib/core/deadline-queue';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineQueue', () => {
  it('reports each deadline that passes before it is cancelled, once and in order', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add('a', 100);
    await vi.advanceTimersByTimeAsync(10);
    queue.add('b', 100);
    await vi.advanceTimersByTimeAsync(89);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(10);
    expect(expired).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(expired).toEqual(['a', 'b']);
  });

  it('never reports a cancelled deadline, wherever it sits in the queue', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    const first = queue.add('first', 50);
    const middle = queue.add('middle', 50);
    queue.add('last', 50);
    expect(queue.cancel(middle)).toBe(true);
    expect(queue.cancel(first)).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(expired).toEqual(['last']);
  });

  it('says whether a cancel came in time', async () => {
    const queue = new DeadlineQueue<string>(() => undefined);
    const late = queue.add('late', 20);
    await vi.advanceTimersByTimeAsync(20);
    expect(queue.cancel(late)).toBe(false);
    const early = queue.add('early', 20);
    expect(queue.cancel(early)).toBe(true);
    expect(queue.cancel(early)).toBe(false);
  });

  it('keeps one timer for deadlines of different delays and fires the shorter one first', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add('slow', 300);
    queue.add('fast', 30);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(30);
    expect(expired).toEqual(['fast']);
    await vi.advanceTimersByTimeAsync(270);
    expect(expired).toEqual(['fast', 'slow']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms no timer per deadline while earlier ones are pending', () => {
    const queue = new DeadlineQueue<number>(() => undefined);
    for (let i = 0; i < 1_000; i++) queue.cancel(queue.add(i, 200));
    queue.add(-1, 200);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('keeps reporting the rest when one report throws', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => {
      expired.push(item);
      if (item === 'a') throw new Error('listener failed');
    });
    queue.add('a', 10);
    queue.add('b', 10);
    await expect(vi.advanceTimersByTimeAsync(10)).rejects.toThrow('listener failed');
    expect(expired).toEqual(['a', 'b']);
  });
});

describe('DeadlineQueue timer', () => {
  it('leaves its timer to run out once every deadline is cancelled, reuses it for the next deadline, and stops when nothing is pending', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    const a = queue.add('a', 100);
    const b = queue.add('b', 100);
    queue.cancel(b);
    queue.cancel(a);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    queue.add('c', 100); // due at 150: the timer armed for 100 fires first, finds it not due, and arms for it
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(expired).toEqual(['c']);
    expect(vi.getTimerCount()).toBe(0);
    const d = queue.add('d', 100);
    queue.cancel(d);
    await vi.advanceTimersByTimeAsync(100);
    expect(vi.getTimerCount()).toBe(0);
    expect(expired).toEqual(['c']);
  });
});

describe('DeadlineQueue across a swap of the timer functions', () => {
  it('arms again with the real timers when its timer was set under fake ones that were then removed', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => expired.push(item));
    queue.add('under fake timers', 10);
    vi.useRealTimers();
    queue.add('under real timers', 10);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(expired).toContain('under real timers');
  });
});
