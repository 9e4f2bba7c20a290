import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decide } from '../../../src/api/auth/guard.js';
import {
  allows,
  findToken,
  parseTokens,
  ROLES,
  readTokensFile,
} from '../../../src/api/auth/tokens.js';
import { hasCode } from '../../../src/common/errors.js';

const A = 'alpha-secret-0123456789';
const B = 'bravo-secret-0123456789';
const C = 'charlie-secret-0123456789';

describe('parseTokens', () => {
  it('reads name role token lines, skipping blanks and comments', () => {
    const tokens = parseTokens(
      `# comment\n\nalice read ${A}\n  bob   operate ${B}  \ncarol retry ${C}\n`,
      'f',
    );
    expect(tokens.map(({ name, role }) => ({ name, role }))).toEqual([
      { name: 'alice', role: 'read' },
      { name: 'bob', role: 'operate' },
      { name: 'carol', role: 'retry' },
    ]);
  });

  it.each([
    ['two words', `alice ${A}`],
    ['an unknown role', `alice admin ${A}`],
    ['a short token', 'alice read short'],
    ['a bad name', `al/ice read ${A}`],
    ['a name twice', `alice read ${A}\nalice operate ${B}`],
    ['a token twice', `alice read ${A}\nbob operate ${A}`],
  ])('refuses %s with TQ_ERR_API_TOKENS_FILE and the line', (_, text) => {
    let caught: unknown;
    try {
      parseTokens(text, '/etc/taskqueue/api.tokens');
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'TQ_ERR_API_TOKENS_FILE')).toBe(true);
    expect((caught as { details: { line: number } }).details.line).toBeGreaterThan(0);
  });
});

describe('readTokensFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tq-tokens-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file every user may read', () => {
    const file = join(dir, 'open.tokens');
    writeFileSync(file, `alice read ${A}\n`);
    chmodSync(file, 0o644);
    expect(() => readTokensFile(file)).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_API_TOKENS_FILE' }),
    );
    chmodSync(file, 0o640);
    expect(readTokensFile(file)).toHaveLength(1);
  });

  it('a missing file is TQ_ERR_API_TOKENS_FILE with the cause', () => {
    expect(() => readTokensFile(join(dir, 'none'))).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_API_TOKENS_FILE' }),
    );
  });
});

describe('findToken and roles', () => {
  const tokens = parseTokens(`alice read ${A}\nbob operate ${B}`, 'f');

  it('finds the token by its secret, nothing for another string', () => {
    expect(findToken(tokens, B)?.name).toBe('bob');
    expect(findToken(tokens, `${B}x`)).toBeUndefined();
    expect(findToken(tokens, '')).toBeUndefined();
  });

  it('roles are ordered read < retry < operate, each including those before it', () => {
    expect(ROLES).toEqual(['read', 'retry', 'operate']);
    expect(allows('operate', 'read')).toBe(true);
    expect(allows('operate', 'retry')).toBe(true);
    expect(allows('operate', 'operate')).toBe(true);
    expect(allows('retry', 'read')).toBe(true);
    expect(allows('retry', 'retry')).toBe(true);
    expect(allows('retry', 'operate')).toBe(false);
    expect(allows('read', 'read')).toBe(true);
    expect(allows('read', 'retry')).toBe(false);
    expect(allows('read', 'operate')).toBe(false);
  });
});

describe('decide', () => {
  const tokens = parseTokens(`alice read ${A}\nbob operate ${B}`, 'f');
  const strict = { tokens: () => tokens, loopbackWithoutToken: false };
  const open = { tokens: () => tokens, loopbackWithoutToken: true };
  const retrying = {
    tokens: () => parseTokens(`alice read ${A}\ncarol retry ${C}`, 'f'),
    loopbackWithoutToken: false,
  };
  const refusal = (d: ReturnType<typeof decide>) => ('refuse' in d ? d.refuse : undefined);

  it('no token: 401, also from loopback unless the operator allows it', () => {
    expect(refusal(decide(strict, undefined, '127.0.0.1', 'read'))).toBe(
      'TQ_ERR_API_UNAUTHENTICATED',
    );
    expect(refusal(decide(open, undefined, '10.0.0.5', 'read'))).toBe('TQ_ERR_API_UNAUTHENTICATED');
    expect(decide(open, undefined, '127.0.0.1', 'operate')).toEqual({
      caller: { name: 'loopback', role: 'operate', loopback: true },
    });
    expect(decide(open, undefined, '::ffff:127.0.0.1', 'operate')).toHaveProperty('caller');
    expect(decide(open, undefined, '::1', 'operate')).toHaveProperty('caller');
  });

  it('a header that is not Bearer is 401 unauthenticated; an unknown token 401 invalid', () => {
    expect(refusal(decide(strict, `Basic ${A}`, '127.0.0.1', 'read'))).toBe(
      'TQ_ERR_API_UNAUTHENTICATED',
    );
    expect(refusal(decide(strict, 'Bearer nope-nope-nope-nope', '10.0.0.5', 'read'))).toBe(
      'TQ_ERR_API_TOKEN_INVALID',
    );
  });

  it('a sent token is checked even from loopback when loopback needs none', () => {
    expect(refusal(decide(open, `Bearer ${A}`, '127.0.0.1', 'operate'))).toBe(
      'TQ_ERR_API_FORBIDDEN',
    );
  });

  it('a read token on an operating route is 403; a route without a role needs operate', () => {
    expect(refusal(decide(strict, `Bearer ${A}`, '10.0.0.5', 'operate'))).toBe(
      'TQ_ERR_API_FORBIDDEN',
    );
    expect(refusal(decide(strict, `Bearer ${A}`, '10.0.0.5', undefined))).toBe(
      'TQ_ERR_API_FORBIDDEN',
    );
    expect(decide(strict, `Bearer ${A}`, '10.0.0.5', 'read')).toEqual({
      caller: { name: 'alice', role: 'read', loopback: false },
    });
    expect(decide(strict, `bearer ${B}`, '10.0.0.5', 'operate')).toEqual({
      caller: { name: 'bob', role: 'operate', loopback: false },
    });
  });

  it('a retry token passes read and retry routes, 403 on operate', () => {
    expect(decide(retrying, `Bearer ${C}`, '10.0.0.5', 'retry')).toEqual({
      caller: { name: 'carol', role: 'retry', loopback: false },
    });
    expect(decide(retrying, `Bearer ${C}`, '10.0.0.5', 'read')).toHaveProperty('caller');
    expect(refusal(decide(retrying, `Bearer ${C}`, '10.0.0.5', 'operate'))).toBe(
      'TQ_ERR_API_FORBIDDEN',
    );
    expect(refusal(decide(retrying, `Bearer ${A}`, '10.0.0.5', 'retry'))).toBe(
      'TQ_ERR_API_FORBIDDEN',
    );
  });

  it('a public route lets everyone in without looking at the token', () => {
    expect(decide(strict, undefined, '10.0.0.5', 'public')).toEqual({ public: true });
    expect(decide(strict, 'Bearer nope-nope-nope-nope', '10.0.0.5', 'public')).toEqual({
      public: true,
    });
  });
});
