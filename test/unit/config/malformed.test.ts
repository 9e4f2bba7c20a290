import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/common/config/load.js';
import type { ConfigProblem } from '../../../src/common/config/problems.js';
import type { ErrorCode } from '../../../src/common/errors.js';
import { fixture, thrownBy } from './helpers.js';

type Expected = [
  code: ErrorCode,
  line: number,
  section: string | undefined,
  key: string | undefined,
];

const SYNTAX = 'TQ_ERR_CONFIG_SYNTAX';
const VALUE = 'TQ_ERR_CONFIG_VALUE';

/** Every malformed fixture: the one mistake it makes, and where. */
const malformed: Record<string, Expected> = {
  'bad-connect-retries.ini': [VALUE, 3, 'amqp', 'connect_retries'],
  'bad-dispatcher-queue.ini': [VALUE, 3, 'dispatcher', 'queue'],
  'bad-enabled.ini': [VALUE, 3, 'workerpool', 'enabled'],
  'bad-group-name.ini': [VALUE, 5, 'worker1', 'group'],
  'bad-heartbeat.ini': [VALUE, 3, 'amqp', 'heartbeat'],
  'bad-host.ini': [VALUE, 3, 'amqp', 'host'],
  'bad-instance-name.ini': [VALUE, 3, 'worker2', 'workers'],
  'bad-interpolation.ini': [SYNTAX, 4, 'worker1', 'command'],
  'bad-log-level.ini': [VALUE, 3, 'workerpool', 'log_level'],
  'bad-max-memory.ini': [VALUE, 4, 'worker1', 'max_memory_per_child'],
  'bad-port.ini': [VALUE, 4, 'amqp', 'port'],
  'bad-prefetch.ini': [VALUE, 4, 'dispatcher', 'prefetch'],
  'bad-queue-type.ini': [VALUE, 4, 'amqp', 'queue_type'],
  'bad-results-exchange.ini': [VALUE, 3, 'worker1', 'results_exchange'],
  'bad-results-routing-key.ini': [VALUE, 3, 'worker1', 'results_routing_key'],
  'bad-retry-delay.ini': [VALUE, 3, 'worker1', 'retry_delay'],
  'bad-shutdown-timeout.ini': [VALUE, 3, 'workerpool', 'shutdown_timeout'],
  'bad-timeout.ini': [VALUE, 4, 'worker1', 'timeout'],
  'bad-type-name.ini': [VALUE, 8, 'my worker', undefined],
  'bad-url-scheme.ini': [VALUE, 3, 'amqp', 'url'],
  'bad-urls-list.ini': [VALUE, 3, 'amqp', 'urls'],
  'bad-user-name.ini': [VALUE, 7, 'worker2_bifh1', 'user'],
  'default-workers-list.ini': [VALUE, 3, 'DEFAULT', 'workers'],
  'duplicate-instance-name.ini': [VALUE, 3, 'worker2', 'workers'],
  'duplicate-key.ini': [SYNTAX, 5, 'amqp', 'host'],
  'duplicate-section.ini': [SYNTAX, 5, 'worker1', undefined],
  'empty-key.ini': [SYNTAX, 4, 'amqp', undefined],
  'instance-workers-list.ini': [VALUE, 6, 'worker2_bifh1', 'workers'],
  'interpolation-loop.ini': [SYNTAX, 3, 'worker1', 'a'],
  'key-before-section.ini': [SYNTAX, 3, undefined, 'workers'],
  'line-without-delimiter.ini': [SYNTAX, 3, 'amqp', undefined],
  'missing-instance-section.ini': [VALUE, 6, 'worker2', 'workers'],
  'negative-workers.ini': [VALUE, 6, 'worker1', 'workers'],
  'relative-plugin-path.ini': [VALUE, 3, 'workerpool', 'plugin_paths'],
  'relative-tls-path.ini': [VALUE, 5, 'amqp', 'tls_cert'],
  'reserved-enabled-type.ini': [VALUE, 2, 'workerpool', 'enabled'],
  'reserved-type-section.ini': [VALUE, 8, 'flaky.dead', undefined],
  'unknown-amqp-key.ini': [VALUE, 3, 'amqp', 'hostname'],
  'unknown-dispatcher-key.ini': [VALUE, 3, 'dispatcher', 'queues'],
  'unknown-interpolation-reference.ini': [SYNTAX, 7, 'worker1', 'path'],
  'unknown-workerpool-key.ini': [VALUE, 3, 'workerpool', 'plugin_path'],
  'zero-max-attempts.ini': [VALUE, 4, 'worker1', 'max_attempts'],
  'zero-max-crashes.ini': [VALUE, 3, 'worker1', 'max_crashes'],
  'zero-max-tasks.ini': [VALUE, 3, 'worker1', 'max_tasks_per_child'],
};

/** Fixtures that load, or that make more than one mistake on purpose. */
const notMalformed = new Set(['spec-example.ini', 'several-mistakes.ini']);

describe('malformed configs', () => {
  it('has an expectation for every malformed fixture', () => {
    const files = readdirSync(dirname(fixture('spec-example.ini'))).filter(
      (f) => f.endsWith('.ini') && !f.startsWith('good-') && !notMalformed.has(f),
    );
    expect(files.sort()).toEqual(Object.keys(malformed).sort());
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(Object.entries(malformed))('rejects %s', (name, [code, line, section, key]) => {
    const file = fixture(name);
    const err = thrownBy(() => loadConfig(file, {}));
    expect(err.code).toBe(code);

    // The message leads with where the mistake is: FILE:LINE: [section] key
    const where = `${file}:${line}:${section === undefined ? '' : ` [${section}]`}`;
    const prefix = key === undefined ? where : `${where} ${key}`;
    expect(err.message.startsWith(prefix), `${err.message} starts with ${prefix}`).toBe(true);
    expect(err.message).toContain(': expected ');

    if (code === VALUE) {
      // One mistake per fixture: one problem, one line of message.
      const problems = err.details.problems as ConfigProblem[];
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ file, line, section, key });
      expect(problems[0]!.expected).not.toBe('');
      expect(err.message).not.toContain('\n');
    } else {
      expect(err.details).toMatchObject({ file, line, section, key });
      expect(err.details.expected).toEqual(expect.any(String));
    }
  });

  it('reports every problem of a file, one line each, in file order', () => {
    const file = fixture('several-mistakes.ini');
    const err = thrownBy(() => loadConfig(file, {}));
    expect(err.code).toBe(VALUE);
    const problems = err.details.problems as ConfigProblem[];
    expect(problems.map((p) => [p.line, p.section, p.key, p.value])).toEqual([
      [3, 'worker1', 'timeout', 'soon'],
      [6, 'amqp', 'port', '0'],
      [7, 'amqp', 'hostname', 'localhost'],
    ]);
    expect(err.message.split('\n')).toEqual([
      `${file}:3: [worker1] timeout = soon: expected a number of seconds above 0 (at most 2147483), or none`,
      `${file}:6: [amqp] port = 0: expected an integer from 1 to 65535`,
      `${file}:7: [amqp] hostname = localhost: expected one of the [amqp] keys host, port, user, passwd, vhost, url, urls, heartbeat, tls_ca, tls_cert, tls_key, queue_type, connect_retries, management_url`,
    ]);
  });

  it('names the missing instance section', () => {
    const err = thrownBy(() => loadConfig(fixture('missing-instance-section.ini'), {}));
    expect(err.message).toContain('expected a section [worker2_bifh2] for instance bifh2');
  });

  it('does not show passwords of malformed URLs', () => {
    const err = thrownBy(() => loadConfig(fixture('bad-url-scheme.ini'), {}));
    expect(err.message).toContain('url = http://guest:***@localhost:15672/');
    expect(JSON.stringify(err.details)).not.toContain('guest:guest');
  });
});

describe('an unreadable config file', () => {
  it('is TQ_ERR_CONFIG_READ naming the file and the reason', () => {
    const file = fixture('no-such-file.ini');
    const err = thrownBy(() => loadConfig(file, {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_READ');
    expect(err.message).toBe(
      `${file}: cannot read the config file: no such file or directory (ENOENT)`,
    );
    expect(err.details).toMatchObject({ file, errno: 'ENOENT' });
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('is TQ_ERR_CONFIG_READ for a directory', () => {
    const dir = dirname(fixture('spec-example.ini'));
    const err = thrownBy(() => loadConfig(dir, {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_READ');
    expect(err.message).toContain('(EISDIR)');
  });
});
