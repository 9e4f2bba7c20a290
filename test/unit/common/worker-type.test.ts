import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorkitem } from '../../../src/cli/submit.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import { hasCode } from '../../../src/common/errors.js';
import { isWorkerType, workerTypeProblem } from '../../../src/common/worker-type.js';
import { routeTask } from '../../../src/dispatcher/route.js';
import { discoverPlugins } from '../../../src/workerpool/discovery/discovery.js';
import { trustedTempDir } from '../../support/programs.js';

/** Types that would name one of the system's own queues, or a coming one. */
const RESERVED = [
  'flaky.retry.2000ms',
  'flaky.dead',
  'flaky.DEAD',
  'x.invalid',
  'taskqueue.unroutable',
  'a.delay',
  'a.delayed.b',
  'x.Retry',
];

describe('the worker type grammar', () => {
  it.each(RESERVED)('refuses %s for its reserved segment', (type) => {
    expect(workerTypeProblem(type)).toMatch(/reserved segment/);
    expect(isWorkerType(type)).toBe(false);
  });

  it.each(['echo', 'worker.v2_x-1', 'x.deadline', 'x.retry-2', 'a.b.c', 'retry', 'dead.x'])(
    'accepts %s',
    (type) => expect(workerTypeProblem(type)).toBeUndefined(),
  );

  it('still refuses what does not match the pattern', () => {
    expect(workerTypeProblem('../etc/passwd')).toMatch(/does not match/);
    expect(workerTypeProblem('a'.repeat(202))).toMatch(/does not match/);
  });

  it('the dispatcher parks a reserved type, from a workitem, a plain object and text/plain', () => {
    const bodies: Array<[string, string | undefined]> = [
      ['{"worker_type":"flaky.retry.2000ms"}', 'application/json'],
      ['{"fields":{"params":{"worker_type":"flaky.dead"}}}', undefined],
      ['flaky.dead hello', 'text/plain'],
    ];
    for (const [body, contentType] of bodies) {
      const route = routeTask(Buffer.from(body), contentType);
      expect(route.ok, body).toBe(false);
      if (!route.ok) expect(route.reason).toMatch(/reserved segment/);
    }
  });

  it('the config refuses a reserved type as a section and in enabled', () => {
    for (const text of [
      '[flaky.dead]\nworkers = 1\n',
      '[workerpool]\nenabled = flaky.retry.10ms\n',
    ]) {
      let thrown: unknown;
      try {
        parseConfigText(text, 'test.ini', {});
      } catch (err) {
        thrown = err;
      }
      expect(hasCode(thrown, 'TQ_ERR_CONFIG_VALUE'), text).toBe(true);
    }
    // An instance name is part of a section name only, never of a queue name.
    const config = parseConfigText('[w]\nworkers = dead\n[w_dead]\nworkers = 1\n', 'test.ini', {});
    expect(config.groupsFor('w').map((g) => g.instance)).toEqual(['dead']);
  });

  it('taskqueue submit refuses a reserved type with TQ_ERR_CLI_USAGE', () => {
    let thrown: unknown;
    try {
      buildWorkitem('flaky.retry.2000ms', '{}');
    } catch (err) {
      thrown = err;
    }
    expect(hasCode(thrown, 'TQ_ERR_CLI_USAGE')).toBe(true);
    expect(buildWorkitem('flaky', '{}').fields.params?.worker_type).toBe('flaky');
  });

  describe('plugin discovery', () => {
    // Not under /tmp: discovery refuses plugins from a world-writable directory.
    const dir = trustedTempDir('worker-type-');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('passes over a package whose type has a reserved segment, saying why', () => {
      for (const name of ['taskqueue-plugin-flaky.dead', 'taskqueue-plugin-fine']) {
        mkdirSync(join(dir, name));
        writeFileSync(
          join(dir, name, 'package.json'),
          JSON.stringify({ name, version: '1.0.0', taskqueue: { api: '^1.0.0' } }),
        );
      }
      const found = discoverPlugins([dir]);
      expect([...found.plugins.keys()]).toEqual(['fine']);
      expect(found.broken).toHaveLength(1);
      expect(found.broken[0]!.reason).toMatch(/reserved segment/);
    });
  });
});
