import type { OffloadCounts } from '../../lib';

/** What the offload service did between two snapshots of its counts, in words. */
export function describeOffload(before: OffloadCounts | undefined, after: OffloadCounts | undefined): string {
  if (before === undefined || after === undefined) return 'no offload counts';
  const delta = (name: 'completed' | 'failed' | 'timedOut' | 'rejected'): number => after[name] - before[name];
  return `offloaded tasks completed ${delta('completed')}, failed ${delta('failed')}, timed out ${delta('timedOut')}, rejected ${delta('rejected')}`;
}
