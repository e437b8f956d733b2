import type IoRedis from 'ioredis';

/** Calls of one command Redis counted, and the microseconds it spent on them, from `INFO commandstats`. */
interface CommandStats {
  readonly calls: number;
  readonly usec: number;
}

async function commandStats(client: IoRedis, command: string): Promise<CommandStats> {
  const info = await client.info('commandstats');
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+),usec=(\\d+)`, 'm').exec(info);
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}

/**
 * Microseconds Redis itself spent per call of `command` while `run` was awaited `calls` times, one after
 * another: the difference of `INFO commandstats` before and after, which leaves out the network and both
 * clients. A script's time includes the commands it calls. Nothing else may send `command` meanwhile.
 */
export async function redisMicrosPerCall(client: IoRedis, command: string, run: () => Promise<unknown>, calls: number): Promise<number> {
  const before = await commandStats(client, command);
  for (let call = 0; call < calls; call++) await run();
  const after = await commandStats(client, command);
  const counted = after.calls - before.calls;
  if (counted < calls) throw new Error(`Redis counted ${counted} ${command} calls for ${calls} calls of the candidate: the candidate does not send one ${command} per call`);
  return (after.usec - before.usec) / counted;
}
