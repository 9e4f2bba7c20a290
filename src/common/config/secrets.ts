/**
 * What a config message may not show. Every path that quotes a value or a line of the file goes
 * through these (problems.ts applies them to every problem and syntax error), so that a broker
 * password never reaches a log, the journal or a terminal, whichever mistake the file makes.
 */

/** Keys whose whole value is a secret: [amqp]'s `passwd`, and plugin settings named like one. */
const SECRET_KEY = /passw|secret|token|credential|private/;

/** The shown form of a secret. */
export const MASK = '***';

/** True when `key` (lowercase, as the parser keeps keys) holds a secret. */
export function isSecretKey(key: string | undefined): boolean {
  return key !== undefined && SECRET_KEY.test(key);
}

/**
 * True when a line that follows `key` in the file may be the rest of a secret (a continuation
 * line written without its indentation): the password itself, or the rest of a URL.
 */
export function mayContinueSecret(key: string | undefined): boolean {
  return isSecretKey(key) || key === 'url' || key === 'urls';
}

// The start of a URL anywhere in a text: `scheme://`.
const URL_START = /[A-Za-z][A-Za-z0-9+.-]*:\/\//g;

/**
 * `text` with the password of every `scheme://user:password@host` in it replaced by `***`. It
 * does not parse the URLs, so that one that cannot be parsed (a raw `/`, `@` or `,` in the
 * password) is masked too: a URL's password runs from the first `:` after `scheme://` to the
 * last `@` before the next URL. That may mask more than the password (an `@` in a vhost), never
 * less.
 */
export function maskUrlPasswords(text: string): string {
  const starts = [...text.matchAll(URL_START)].map((match) => match.index);
  if (starts.length === 0) return text;
  const parts = [text.slice(0, starts[0])];
  starts.forEach((start, i) => {
    parts.push(maskOneUrl(text.slice(start, starts[i + 1] ?? text.length)));
  });
  return parts.join('');
}

function maskOneUrl(url: string): string {
  const authority = url.indexOf('://') + 3;
  const at = url.lastIndexOf('@');
  if (at < authority) return url;
  const colon = url.indexOf(':', authority);
  if (colon < 0 || colon > at) return url;
  return `${url.slice(0, colon + 1)}${MASK}${url.slice(at)}`;
}

/** How a config value (or a line of the file) of `key` may be shown in a message. */
export function maskValue(key: string | undefined, value: string): string {
  if (isSecretKey(key)) return MASK;
  return maskUrlPasswords(value);
}
