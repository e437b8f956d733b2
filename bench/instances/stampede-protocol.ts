/** The messages between the distributed-stampede scenario and its instance processes (kept apart: importing the instance would start one). */

/** What the scenario asks an instance: load `key` through getOrSet, sharing the load as `singleFlight` says. */
export interface StampedeRequest {
  readonly key: string;
  readonly singleFlight: 'local' | 'distributed';
}

/** What an instance answers: the value it got and how many times its factory ran. */
export interface StampedeReply {
  readonly value: unknown;
  readonly factoryCalls: number;
}

/** The factory's time, as the stampede across processes asks: a 50 ms query. */
export const INSTANCE_FACTORY_MS = 50;
