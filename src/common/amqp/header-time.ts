/**
 * Reading the time headers (NOT_BEFORE_HEADER, EXPIRES_AT_HEADER) as the dispatcher and the
 * children both do: another client may have written them, as text or as bytes.
 */

/** A header's time in epoch ms, or undefined when it is not a text that Date.parse reads. */
export function headerTime(value: unknown): number | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A header's value as a refusal shows it: JSON, bytes as text, at most 100 characters. */
export function shownHeader(value: unknown): string {
  return (JSON.stringify(Buffer.isBuffer(value) ? value.toString('utf8') : value) ?? '').slice(
    0,
    100,
  );
}
