/** What {@link scanJson} returns for text whose arrays and objects are nested deeper than it was allowed. */
export const NESTED_TOO_DEEP = -1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Reads JSON text from `start` once, without recursion and without building anything, before `JSON.parse`
 * is trusted with it: {@link NESTED_TOO_DEEP} as soon as arrays and objects are nested more than
 * `maxDepth` levels, else the number of object keys that may be tags of `JsonSerializer` (keys that start
 * with `$`, or with an escape that could stand for one). Strings are skipped with `indexOf`, so the scan
 * costs a fraction of what parsing the same text does. Text that is not valid JSON is scanned as far as it
 * goes; `JSON.parse` then refuses it.
 *
 * @example
 * scanJson('[[[1]]]', 0, 2); // NESTED_TOO_DEEP
 * scanJson('{"at":{"$date":"2024-01-01T00:00:00.000Z"}}', 0, 1000); // 1
 */
export function scanJson(text: string, start: number, maxDepth: number): number {
  let depth = 0;
  let dollarKeys = 0;
  const end = text.length;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      const first = text.charCodeAt(index + 1);
      index = closingQuote(text, index);
      if (index === -1) return dollarKeys;
      if ((first === DOLLAR || first === BACKSLASH) && endsKey(text.charCodeAt(index + 1))) dollarKeys++;
    } else if (code >= OPEN_BRACKET) {
      // Digits, signs, commas and colons, most of what is outside strings, are below the brackets.
      if (code === OPEN_BRACKET || code === OPEN_BRACE) {
        if (++depth > maxDepth) return NESTED_TOO_DEEP;
      } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
        depth--;
      }
    }
  }
  return dollarKeys;
}

/** The index of the quote that closes the string opened at `open`, or -1 when it is never closed. */
function closingQuote(text: string, open: number): number {
  let index = open;
  for (;;) {
    index = text.indexOf('"', index + 1);
    if (index === -1) return -1;
    // A quote after an odd number of backslashes is part of the string. Each run of backslashes is counted
    // once, by the quote that follows it, so hostile text cannot make this quadratic.
    let backslashes = 0;
    while (text.charCodeAt(index - 1 - backslashes) === BACKSLASH) backslashes++;
    if ((backslashes & 1) === 0) return index;
  }
}

/** True for what may follow a key: its colon, or whitespace before it (JSON.stringify writes none, other writers may). */
function endsKey(code: number): boolean {
  return code === COLON || code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
