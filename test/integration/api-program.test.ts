import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitStatus } from '../../src/common/exit.js';
import { OPERATE_TOKEN } from '../support/api-server.js';
import { startApi, writeConfig } from '../support/programs.js';

/**
 * `taskqueue-api` as a program: what stops it before it listens or connects. (Serving is tested
 * in api.test.ts on the in-memory store; the program opens the real stores, which arrive with
 * issue 28's store part.)
 */
describe('taskqueue-api start', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  /** A config whose [api] section holds `api` (and `tokens`, if given, as its tokens file). */
  function config(api: string, tokens?: { text: string; mode: number }): string {
    const { file, dir, cleanup } = writeConfig('');
    cleanups.push(cleanup);
    let section = api;
    if (tokens) {
      const path = join(dir, 'api.tokens');
      writeFileSync(path, tokens.text);
      chmodSync(path, tokens.mode);
      section += `\ntokens_file = ${path}`;
    }
    writeFileSync(
      file,
      `[amqp]\nurl = amqp://127.0.0.1:1\nconnect_retries = 1\n\n[api]\n${section}\n`,
    );
    return file;
  }

  async function exitOf(file: string): Promise<{ code: number | null; codes: unknown[] }> {
    const api = startApi(file);
    const { code } = await api.exited();
    return { code, codes: api.logs().map((line) => line.code) };
  }

  it('a tokens file every user may read: exit 78, TQ_ERR_API_TOKENS_FILE', async () => {
    const file = config('listen = 127.0.0.1:0', {
      text: `ci operate ${OPERATE_TOKEN}\n`,
      mode: 0o644,
    });
    const { code, codes } = await exitOf(file);
    expect(code).toBe(ExitStatus.CONFIG);
    expect(codes).toContain('TQ_ERR_API_TOKENS_FILE');
  });

  it('a malformed tokens line: exit 78, TQ_ERR_API_TOKENS_FILE', async () => {
    const file = config('listen = 127.0.0.1:0', {
      text: `ci admin ${OPERATE_TOKEN}\n`,
      mode: 0o640,
    });
    const { code, codes } = await exitOf(file);
    expect(code).toBe(ExitStatus.CONFIG);
    expect(codes).toContain('TQ_ERR_API_TOKENS_FILE');
  });

  it('a bad [api] value or unknown key: exit 78, TQ_ERR_CONFIG_VALUE', async () => {
    for (const line of ['listen = 127.0.0.1', 'loopback_without_token = maybe', 'colour = red']) {
      const { code, codes } = await exitOf(config(line));
      expect(code, line).toBe(ExitStatus.CONFIG);
      expect(codes, line).toContain('TQ_ERR_CONFIG_VALUE');
    }
  });
});
