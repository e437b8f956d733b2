import type { PeerName } from './candidate';
import type { CandidateRounds } from './interleave';
import type { Metric, Ratio, ResultRow } from './results';
import type { SampleStats } from './sampling';
import { median } from './statistics';

/**
 * Turns per-round measurements (nanoseconds per operation) into rows: medians over the rounds in the
 * scenario's unit, and ratios computed round by round (so that both sides of a ratio saw the same
 * machine) then reduced to their median.
 */
export function compareRounds(measured: readonly CandidateRounds[], metric: Exclude<Metric, 'size'>): ResultRow[] {
  const floors = measured.filter((entry) => entry.candidate.role === 'floor');
  const peers = measured.filter((entry) => entry.candidate.role === 'peer');
  return measured.map((entry) => {
    const { candidate } = entry;
    const vsFloors: Record<string, Ratio> = {};
    for (const floor of floors) {
      if (floor !== entry) vsFloors[floor.candidate.name] = ratioOverRounds(entry.rounds, floor.rounds, metric);
    }
    const vsPeers: Partial<Record<PeerName, Ratio>> = {};
    if (candidate.role !== 'peer' && candidate.operation !== undefined) {
      for (const peer of peers) {
        if (peer.candidate.operation === candidate.operation && peer.candidate.peer !== undefined) {
          vsPeers[peer.candidate.peer] = ratioOverRounds(entry.rounds, peer.rounds, metric);
        }
      }
    }
    return {
      name: candidate.name,
      role: candidate.role,
      ...(candidate.peer === undefined ? {} : { peer: candidate.peer }),
      ...(candidate.operation === undefined ? {} : { operation: candidate.operation }),
      p50: toUnit(median(entry.rounds.map((round) => round.p50)), metric),
      p99: toUnit(median(entry.rounds.map((round) => round.p99)), metric),
      vsFloors,
      vsPeers,
    };
  });
}

/** Per-round ratio of `subject` to `reference`, oriented by the metric, reduced to the median. */
function ratioOverRounds(subject: readonly SampleStats[], reference: readonly SampleStats[], metric: Exclude<Metric, 'size'>): Ratio {
  const rounds = Math.min(subject.length, reference.length);
  const p50: number[] = [];
  const p99: number[] = [];
  for (let round = 0; round < rounds; round++) {
    p50.push(orient(subject[round].p50, reference[round].p50, metric));
    p99.push(orient(subject[round].p99, reference[round].p99, metric));
  }
  return { p50: median(p50), p99: median(p99) };
}

/** Time ratio for latency; operations ratio (the inverse) for throughput. */
function orient(subjectNs: number, referenceNs: number, metric: Exclude<Metric, 'size'>): number {
  return metric === 'latency' ? subjectNs / referenceNs : referenceNs / subjectNs;
}

function toUnit(nanosecondsPerOp: number, metric: Exclude<Metric, 'size'>): number {
  return metric === 'latency' ? nanosecondsPerOp : 1e9 / nanosecondsPerOp;
}
