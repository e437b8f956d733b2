import { afterEach, describe, expect, it, vi } from 'vitest';
import { NextTurn } from '../../lib/core/next-turn';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('NextTurn', () => {
  it('runs the callback once on the next turn however many times it was requested', async () => {
    const callback = vi.fn();
    const next = new NextTurn(callback);
    next.request();
    next.request();
    next.request();
    expect(callback).not.toHaveBeenCalled();
    await Promise.resolve();
    expect(callback).not.toHaveBeenCalled();
    await turn();
    expect(callback).toHaveBeenCalledTimes(1);
    next.request();
    await turn();
    expect(callback).toHaveBeenCalledTimes(2);
  });

  it('requests again with the real timers when a request made under fake timers was discarded with them', async () => {
    const callback = vi.fn();
    const next = new NextTurn(callback);
    vi.useFakeTimers();
    next.request();
    vi.useRealTimers();
    next.request();
    await turn();
    expect(callback).toHaveBeenCalledTimes(1);
  });
});

describe('NextTurn, shared', () => {
  it('runs every instance requested before the turn, each once, in request order, and the rest after one throws', async () => {
    const calls: string[] = [];
    const first = new NextTurn(() => {
      calls.push('first');
      throw new Error('first failed');
    });
    const second = new NextTurn(() => calls.push('second'));
    second.request();
    first.request();
    second.request();
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    await turn();
    expect(calls).toEqual(['second', 'first']);
    expect(await uncaught).toMatchObject({ message: 'first failed' });
  });
});
