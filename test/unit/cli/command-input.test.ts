import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandConfig } from '../../../src/cli/config-source.js';
import { waitingHints } from '../../../src/cli/serving-hint.js';
import { asksForStdin, readFields } from '../../../src/cli/stdin-fields.js';
import { checkWorkerType } from '../../../src/cli/worker-type-check.js';
import { hasCode } from '../../../src/common/errors.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('submit -', () => {
  it('is recognised in the raw arguments after submit, wherever it stands', () => {
    expect(asksForStdin(['submit', 'echo', '-'])).toBe(true);
    expect(asksForStdin(['-c', 'x.ini', 'submit', 'echo', '-', '--wait'])).toBe(true);
    expect(asksForStdin(['submit', 'echo', '{}'])).toBe(false);
    expect(asksForStdin(['submit', 'echo', ''])).toBe(false);
  });

  it('reads stdin; an empty stdin is a usage error', () => {
    expect(readFields('-', () => '{"a":1}')).toBe('{"a":1}');
    expect(readFields('{"b":2}', () => 'unused')).toBe('{"b":2}');
    expect(readFields(undefined, () => 'unused')).toBeUndefined();
    expect(codeOf(() => readFields('-', () => ''))).toBe('TQ_ERR_CLI_USAGE');
    expect(codeOf(() => readFields('-', () => ' \n\t'))).toBe('TQ_ERR_CLI_USAGE');
  });
});

describe('checkWorkerType', () => {
  it('takes what the dispatcher routes and refuses the rest as a usage error', () => {
    for (const type of ['echo', 'worker2', 'a.b-c_d'])
      expect(codeOf(() => checkWorkerType(type))).toBeUndefined();
    for (const type of ['', 'two words', '-x', 'a/b', 'x'.repeat(300)])
      expect(
        codeOf(() => checkWorkerType(type)),
        type,
      ).toBe('TQ_ERR_CLI_USAGE');
  });
});

describe('waitingHints', () => {
  const served = { messageCount: 0, consumerCount: 1 };
  const input = { name: 'taskqueue', look: served };

  it('says nothing when a dispatcher and a worker consume', () => {
    expect(waitingHints('echo', input, served)).toEqual([]);
  });

  it('names the worker queue when it is missing or has no consumer', () => {
    const [missing] = waitingHints('echo', input, 'missing');
    expect(missing).toContain('worker_echo does not exist');
    const [idle] = waitingHints('echo', input, { messageCount: 3, consumerCount: 0 });
    expect(idle).toContain('worker_echo has no consumer');
  });

  it('says nothing about a queue the broker would not show', () => {
    expect(waitingHints('echo', { name: 'taskqueue', look: 'unknown' }, 'unknown')).toEqual([]);
  });

  it('names the input queue when no dispatcher consumes it', () => {
    const hints = waitingHints(
      'echo',
      { name: 'tq-in', look: { messageCount: 0, consumerCount: 0 } },
      served,
    );
    expect(hints).toHaveLength(1);
    expect(hints[0]).toContain('tq-in');
  });
});

describe('commandConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tq-cli-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const absent = join(dir, 'absent.ini');
  const noEnv = {};

  it('without the default file: built-in defaults and a notice naming the broker', () => {
    const loaded = commandConfig(absent, false, noEnv);
    expect(loaded.file).toBeUndefined();
    expect(loaded.config.amqp.urls).toHaveLength(1);
    expect(loaded.notice).toBe(
      `no ${absent}; using amqp://guest@localhost:5672/ — set -c or TASKQUEUE_AMQP_URL`,
    );
  });

  it('no notice when TASKQUEUE_AMQP_URL names the broker', () => {
    const loaded = commandConfig(absent, false, { TASKQUEUE_AMQP_URL: 'amqp://b.example/' });
    expect(loaded.notice).toBeUndefined();
    expect(loaded.config.amqp.urls).toEqual(['amqp://b.example/']);
  });

  it('a missing file named with -c is a config error', () => {
    let caught: unknown;
    try {
      commandConfig(absent, true, noEnv);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'TQ_ERR_CONFIG_READ')).toBe(true);
  });

  it('an existing default file is read, without a notice', () => {
    const file = join(dir, 'config.ini');
    writeFileSync(file, '[amqp]\nhost = rabbit.example\n');
    const loaded = commandConfig(file, false, noEnv);
    expect(loaded.notice).toBeUndefined();
    expect(loaded.file).toBe(file);
    expect(loaded.config.amqp.urls[0]).toContain('rabbit.example');
  });
});
