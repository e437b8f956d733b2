export type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from './offload.interface';
export { OffloadService } from './offload.service';
export type { OffloadCounts, OffloadDrainResult, OffloadEvent, OffloadHooks, OffloadOptions } from './offload.service';
