export { CircuitBreaker } from './circuit-breaker';
export type { CircuitBreakerHooks, CircuitBreakerOptions, CircuitBreakerStats, CircuitPermit, CircuitState, CircuitStateChange } from './circuit-breaker';
export { L2WriteReplayQueue } from './l2-write-replay-queue';
export type {
  QueuedWrite,
  ReplayDecision,
  ReplayListener,
  ReplayOperation,
  ReplayOutcome,
  ReplayQueueOptions,
  ReplayQueueStats,
} from './l2-write-replay-queue';
export { ResilientStore } from './resilient-store';
export type {
  L2CallOptions,
  L2ReplayOptions,
  L2ResilienceStats,
  ReplayShutdownResult,
  ResilienceLogger,
  ResilienceOptions,
  ResilientStoreOptions,
} from './resilient-store';
