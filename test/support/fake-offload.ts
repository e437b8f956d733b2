import type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from '../../lib/core/offload.interface';

/** Records every task it is given; `accept` decides what `run` answers (false: service full). */
export class FakeOffload implements Offload {
  readonly calls: { kind: OffloadTaskKind; task: OffloadTask; options: OffloadRunOptions | undefined }[] = [];
  constructor(private readonly accept = true) {}
  run(kind: OffloadTaskKind, task: OffloadTask, options?: OffloadRunOptions): boolean {
    this.calls.push({ kind, task, options });
    return this.accept;
  }
}
