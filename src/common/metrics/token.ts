import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TqError } from '../errors.js';

/** Shorter is guessable; postinst writes 64 hex digits. */
export const MIN_TOKEN_CHARS = 16;

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * The token of `file` as a SHA-256 digest, to compare a request's with: the file's first line,
 * trimmed. Throws TQ_ERR_METRICS_TOKEN when it cannot be read or is too short.
 */
export function readMetricsToken(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TqError(
      'TQ_ERR_METRICS_TOKEN',
      `metrics_token_file ${file} cannot be read: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const token = text.split('\n', 1)[0]!.trim();
  if (token.length < MIN_TOKEN_CHARS) {
    throw new TqError(
      'TQ_ERR_METRICS_TOKEN',
      `metrics_token_file ${file} holds no token of at least ${MIN_TOKEN_CHARS} characters`,
    );
  }
  return digest(token);
}

/**
 * True when an `Authorization` header carries the token (`Bearer <token>`, as Prometheus'
 * `authorization: credentials_file:` sends it). Digests of equal length compared in constant
 * time: how long the check takes says nothing about how much of a guess was right.
 */
export function bearerMatches(header: string | undefined, tokenDigest: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), tokenDigest);
}
