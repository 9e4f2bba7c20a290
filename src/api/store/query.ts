import { TqError } from '../../common/errors.js';

/**
 * What list queries of every store share: the keyset cursor and the field path. Pages are
 * newest first, ordered by (createdAt, id) descending; a cursor is the key of the last task of a
 * page, so a page starts strictly after it whatever was inserted since (offsets would repeat or
 * skip rows, and cost a scan of every skipped row).
 */

export interface CursorKey {
  createdAt: string;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // Falls through to the error below: a cursor this store did not hand out.
  }
  throw new TqError('TQ_ERR_STORE_QUERY', 'the cursor is not one this store handed out');
}

const FIELD_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A dotted workitem path (`fields.repo`) as its parts; other characters are refused. */
export function fieldPathParts(path: string): string[] {
  if (!FIELD_PATH.test(path)) {
    throw new TqError(
      'TQ_ERR_STORE_QUERY',
      `the field path ${JSON.stringify(path)} is not dotted names of letters, digits, _ and -`,
    );
  }
  return path.split('.');
}

/** The value a dotted path leads to in a JSON value, undefined when there is none. */
export function fieldOf(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}
