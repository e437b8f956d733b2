/** What a race policy does with the slower layer's operation once the faster one has won. */
export const RaceLoser = {
  /** Hand it to the offload service: it finishes in the background, is counted, and `drain` waits for it. */
  Offload: 'offload',
  /** Leave it unobserved; its result and error are ignored. */
  Drop: 'drop',
} as const;
export type RaceLoser = (typeof RaceLoser)[keyof typeof RaceLoser];
