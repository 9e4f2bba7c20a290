/**
 * Whether a task's `content_type` names `text/plain` (parameters and case ignored): such a body
 * is `"<type> <rest>"`, any other is JSON (SPEC §1).
 *
 * The usual `application/json` is answered first: splitting, trimming and lower-casing the
 * header cost every task measurably in a child under load (bench/FINDINGS.md), for nothing.
 */
export function isPlainText(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === 'application/json') return false;
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'text/plain';
}

/**
 * A `text/plain` body's parts: the worker type is its first word (leading whitespace skipped),
 * the rest is what follows the one whitespace character after it. The dispatcher routes by the
 * type; the child hands both to the plugin.
 */
export function plainTextParts(text: string): { type: string; rest: string } {
  const trimmed = text.trimStart();
  const space = trimmed.search(/\s/);
  if (space === -1) return { type: trimmed, rest: '' };
  return { type: trimmed.slice(0, space), rest: trimmed.slice(space + 1) };
}
