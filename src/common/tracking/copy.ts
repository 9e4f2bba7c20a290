import { COPY_CAP_BYTES } from './limits.js';

/** A capped copy of a workitem or a result, and whether it was cut. */
export interface Copy {
  value: unknown;
  truncated: boolean;
}

/**
 * The copy of a JSON text of `json`: the value itself when its text fits `cap` bytes, else the
 * text's first bytes as a string, cut where a character begins. `json` is text already made
 * (the body as it came, the result as it was published), so nothing is serialised twice.
 */
export function copyOfJson(json: string, cap = COPY_CAP_BYTES): Copy {
  if (Buffer.byteLength(json) <= cap) return { value: new RawJson(json), truncated: false };
  return { value: cutUtf8(json, cap), truncated: true };
}

/** The copy of a text that is not JSON (a `text/plain` task): itself, or its first bytes. */
export function copyOfText(text: string, cap = COPY_CAP_BYTES): Copy {
  if (Buffer.byteLength(text) <= cap) return { value: text, truncated: false };
  return { value: cutUtf8(text, cap), truncated: true };
}

/** The first at most `cap` bytes of `text`, never half a character. */
export function cutUtf8(text: string, cap: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= cap) return text;
  let end = cap;
  // A continuation byte (10xxxxxx) is the middle of a character: back up to its first byte.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * JSON text known to be valid (the dispatcher validated the body, the child made the result),
 * put into an event as it is: encode.ts writes it without parsing and writing it again.
 */
export class RawJson {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}
