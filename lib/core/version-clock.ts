import { LayeredCacheError } from './errors.js';
import { INVALID_VERSION_CLOCK_ID } from './messages.js';

/** Width of the millisecond part of a version. */
const MS_DIGITS = 13;
/** Width of the counter part: versions within one millisecond. */
const COUNTER_DIGITS = 4;
const COUNTER_LIMIT = 10 ** COUNTER_DIGITS;
const ID_LENGTH = 6;
const DIGITS = /^\d+$/;
/** Length of every version a {@link VersionClock} makes. */
export const VERSION_LENGTH = MS_DIGITS + COUNTER_DIGITS + ID_LENGTH;
const ID = /^\d{6}$/;

/**
 * Versions of cache entries and deletes: a hybrid logical clock. A version is 23 decimal digits,
 * `<13-digit epoch ms><4-digit counter><6-digit writer id>`, so that a later version is the greater text
 * (a Redis script compares them as strings). Versions of one
 * clock only grow, even when the system clock steps back; a version seen from another writer moves the
 * clock past it, so a write that follows a read of another instance's entry is newer than that entry.
 *
 * @example
 * const clock = new VersionClock();
 * clock.next(); // '17000000000000000482913'
 */
export class VersionClock {
  private ms = 0;
  /** `ms` as the 13 digits versions start with, made once per millisecond rather than once per version. */
  private msDigits = '0'.repeat(MS_DIGITS);
  private counter = 0;
  /** The greatest version made or observed so far: what most observed versions are compared with, as text. */
  private latest = '';

  /**
   * @param id Six digits that tell this writer's versions apart from others' made in the same millisecond.
   *   Default: random.
   */
  constructor(readonly id: string = randomId()) {
    if (!ID.test(id)) throw new LayeredCacheError(INVALID_VERSION_CLOCK_ID(id));
  }

  /** A version greater than every one this clock made or observed before. */
  next(now: number = Date.now()): string {
    if (now > this.ms) this.moveTo(now, 0);
    else if (++this.counter >= COUNTER_LIMIT) this.moveTo(this.ms + 1, 0);
    this.latest = this.msDigits + String(this.counter).padStart(COUNTER_DIGITS, '0') + this.id;
    return this.latest;
  }

  /** Moves the clock past a version read from a shared layer (ignored when it is not one). */
  observe(version: string | undefined): void {
    // Versions have a fixed width, so comparing the text orders them: most are not ahead of this clock.
    if (version === undefined || version.length !== VERSION_LENGTH || version <= this.latest) return;
    const msText = version.slice(0, MS_DIGITS);
    const counterText = version.slice(MS_DIGITS, MS_DIGITS + COUNTER_DIGITS);
    if (!DIGITS.test(msText) || !DIGITS.test(counterText)) return;
    const ms = Number(msText);
    const counter = Number(counterText);
    if (ms > this.ms || (ms === this.ms && counter > this.counter)) {
      this.moveTo(ms, counter);
      this.latest = version;
    }
  }

  private moveTo(ms: number, counter: number): void {
    if (ms !== this.ms) this.msDigits = String(ms).padStart(MS_DIGITS, '0');
    this.ms = ms;
    this.counter = counter;
  }
}

function randomId(): string {
  return String(Math.floor(Math.random() * 10 ** ID_LENGTH)).padStart(ID_LENGTH, '0');
}
