import type IoRedis from 'ioredis';

/** Calls of one command Redis counted, and the microseconds it spent on them, from `INFO commandstats`. */
export interface CommandStats {
  readonly calls: number;
  readonly usec: number;
}

/** Every command's figures in the text of `INFO commandstats`, by Redis's name for it (`evalsha`, `client|tracking`). */
export function parseCommandStats(info: string): Map<string, CommandStats> {
  const stats = new Map<string, CommandStats>();
  for (const [, command, calls, usec] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(command, { calls: Number(calls), usec: Number(usec) });
  return stats;
}

/**
 * Microseconds Redis itself spent per call of `command` while `run` was awaited `calls` times, one after
 * another: the difference of `INFO commandstats` before and after, which leaves out the network and both
 * clients. A script's time includes the commands it calls. Nothing else may send `command` meanwhile.
 */
export async function redisMicrosPerCall(client: IoRedis, command: string, run: () => Promise<unknown>, calls: number): Promise<number> {
  const statsOf = async (): Promise<CommandStats> => parseCommandStats(await client.info('commandstats')).get(command) ?? { calls: 0, usec: 0 };
  const before = await statsOf();
  for (let call = 0; call < calls; call++) await run();
  const after = await statsOf();
  const counted = after.calls - before.calls;
  if (counted < calls) throw new Error(`Redis counted ${counted} ${command} calls for ${calls} calls of the candidate: the candidate does not send one ${command} per call`);
  return (after.usec - before.usec) / counted;
}
