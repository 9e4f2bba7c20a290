import { RawJson } from './copy.js';
import type { WireEvent } from './event.js';

/**
 * The message body of `event`. A copy that is RawJson goes in as its text (JSON.stringify of the
 * parsed body would cost a parse and a stringify of every workitem); everything else through
 * JSON.stringify. Undefined fields are left out.
 */
export function encodeEvent(event: WireEvent): Buffer {
  const raw: [string, string][] = [];
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    if (value instanceof RawJson) raw.push([key, value.json]);
    else plain[key] = value;
  }
  let text = JSON.stringify(plain);
  for (const [key, json] of raw) text = `${text.slice(0, -1)},${JSON.stringify(key)}:${json}}`;
  return Buffer.from(text, 'utf8');
}
