import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { TqError } from '../../common/errors.js';

/**
 * Ordered, each including the ones before it: `read` may look; `retry` may also retry tasks and
 * requeue dead letters; `operate` may also submit, cancel and drop (docs/api.md).
 */
export const ROLES = ['read', 'retry', 'operate'] as const;
export type Role = (typeof ROLES)[number];

/** One line of the tokens file, the secret kept only as its digest. */
export interface ApiToken {
  name: string;
  role: Role;
  digest: Buffer;
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
/** Long enough that guessing is hopeless; printable, no spaces (it is one word of a line). */
const SECRET = /^[\x21-\x7e]{16,512}$/;

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/**
 * Parses the tokens file: one `name role token` a line; blank lines and `#` comments skipped.
 * Names are unique (they are what the log says), and so are tokens.
 *
 * @throws TqError TQ_ERR_API_TOKENS_FILE naming the first bad line
 */
export function parseTokens(text: string, file: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const bad = (why: string) =>
      new TqError('TQ_ERR_API_TOKENS_FILE', `${file}:${index + 1}: ${why}`, {
        details: { file, line: index + 1 },
      });
    const words = line.split(/\s+/);
    if (words.length !== 3) throw bad('expected `name role token` (three words)');
    const [name, role, secret] = words as [string, string, string];
    if (!NAME.test(name)) throw bad('a name is 1 to 64 of A-Z a-z 0-9 _ . @ -');
    if (!(ROLES as readonly string[]).includes(role))
      throw bad(`role must be one of ${ROLES.join(', ')}`);
    if (!SECRET.test(secret)) throw bad('a token is 16 to 512 printable characters, no spaces');
    if (names.has(name)) throw bad(`name ${name} is used twice`);
    if (secrets.has(secret)) throw bad('the same token is listed twice');
    names.add(name);
    secrets.add(secret);
    tokens.push({ name, role: role as Role, digest: digestOf(secret) });
  }
  return tokens;
}

/**
 * Reads and parses the tokens file. Refused when others than its owner and group may read it:
 * a token anyone on the host can read is no access control.
 *
 * @throws TqError TQ_ERR_API_TOKENS_FILE
 */
export function readTokensFile(file: string): ApiToken[] {
  let text: string;
  try {
    if ((statSync(file).mode & 0o004) !== 0) {
      throw new TqError(
        'TQ_ERR_API_TOKENS_FILE',
        `${file} is readable by every user: chmod 640 (owner root, group taskqueue)`,
        { details: { file } },
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof TqError) throw err;
    throw new TqError('TQ_ERR_API_TOKENS_FILE', `${file}: ${(err as Error).message}`, {
      cause: err,
      details: { file },
    });
  }
  return parseTokens(text, file);
}

/**
 * The token whose secret is `presented`, or undefined. Every token is compared, each in constant
 * time on digests of equal length, so the time taken says nothing of which one (nearly) matched.
 */
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const digest = digestOf(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, digest) && found === undefined) found = token;
  }
  return found;
}

/** True when `role` may do what `needed` allows: it is `needed` or comes after it in ROLES. */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
