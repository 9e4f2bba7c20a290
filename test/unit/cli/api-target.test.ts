import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiTarget, listenUrl } from '../../../src/cli/api/target.js';
import { tasksQuery } from '../../../src/cli/api/tasks.js';
import { parseConfigText } from '../../../src/common/config/load.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});
const dir = mkdtempSync(join(tmpdir(), 'tq-api-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('where taskqueue task|tasks ask', () => {
  it('--api, else TASKQUEUE_API_URL, else [api] url, else [api] listen when [api] is written', () => {
    const written = load('[api]\nlisten = 0.0.0.0:9000\nurl = http://api.example:8420/\n');
    expect(apiTarget(written, { api: 'http://a:1' }, { TASKQUEUE_API_URL: 'http://b:2' }).url).toBe(
      'http://a:1',
    );
    expect(apiTarget(written, {}, { TASKQUEUE_API_URL: 'http://b:2' }).url).toBe('http://b:2');
    expect(apiTarget(written, {}, {}).url).toBe('http://api.example:8420');
    expect(apiTarget(load('[api]\nlisten = 0.0.0.0:9000\n'), {}, {}).url).toBe(
      'http://127.0.0.1:9000',
    );
    expect(() => apiTarget(load(''), {}, {})).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_CLI_NO_API' }),
    );
    expect(() => apiTarget(load(''), { api: 'ftp://x' }, {})).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_CLI_NO_API' }),
    );
  });

  it('the token: --token, else --token-file, else TASKQUEUE_API_TOKEN, else none', () => {
    const config = load('[api]\n');
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\nignored\n');
    const env = { TASKQUEUE_API_TOKEN: 'from-env' };
    expect(apiTarget(config, { token: 't', tokenFile: file }, env).token).toBe('t');
    expect(apiTarget(config, { tokenFile: file }, env).token).toBe('from-file');
    expect(apiTarget(config, {}, env).token).toBe('from-env');
    expect(apiTarget(config, {}, {}).token).toBeUndefined();
    expect(() => apiTarget(config, { tokenFile: join(dir, 'absent') }, {})).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_CLI_NO_API' }),
    );
  });

  it('listen addresses as URLs; the query of tasks', () => {
    expect(listenUrl({ host: '::', port: 1 })).toBe('http://[::1]:1');
    expect(listenUrl({ host: '10.0.0.2', port: 8420 })).toBe('http://10.0.0.2:8420');
    const filter = {
      state: ['failed', 'poisoned'],
      type: 'shell',
      since: undefined,
      until: undefined,
      field: ['order.id=a=b'],
      limit: 5,
      cursor: undefined,
    };
    expect(tasksQuery(filter)).toBe(
      '?state=failed%2Cpoisoned&type=shell&field.order.id=a%3Db&limit=5',
    );
    expect(() => tasksQuery({ ...filter, limit: 0 })).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_CLI_USAGE' }),
    );
  });
});
