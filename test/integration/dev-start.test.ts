import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { useVhost } from '../support/broker.js';
import { readLines } from '../support/programs.js';

/** What `npm start` runs: the development tooling's start program (dev/src/start.ts). */
const START = createRequire(import.meta.url).resolve('@taskqueue/dev/start');

/** `npm start` on the test run's broker, as a newcomer runs it. */
describe('npm start', () => {
  const lines: string[] = [];
  let child: ReturnType<typeof spawn> | undefined;

  let exited: Promise<number | null> | undefined;

  // Ctrl-C, as a user would: start.js stops its daemons then (a SIGKILL would orphan them).
  afterAll(async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  });

  const waitFor = async (pattern: RegExp, timeoutMs = 90_000) => {
    await expect
      .poll(() => lines.some((line) => pattern.test(line)), { timeout: timeoutMs, interval: 100 })
      .toBe(true);
    return lines.findIndex((line) => pattern.test(line));
  };

  it('waits for the pool, shows tasks answered, and counts them at Ctrl-C', async () => {
    const url = await useVhost('dev-start');
    child = spawn(process.execPath, [START], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TASKQUEUE_AMQP_URL: url },
    });
    exited = new Promise<number | null>((done) => child!.once('exit', (code) => done(code)));
    readLines(child.stdout!, (line) => lines.push(line));
    readLines(child.stderr!, (line) => lines.push(line));
    const waiting = await waitFor(/^waiting for the dispatcher, the API and the pool/);
    const flowing = await waitFor(/^tasks flowing/);
    expect(flowing).toBeGreaterThan(waiting);
    await waitFor(/^task demo-\d+ → (echo|shell) child pid \d+ → /);
    // The API it printed answers without a token on loopback, and its tracker recorded the
    // demo tasks the dispatcher saw, to their final state.
    const api = lines
      .map((line) => /^API on (http:\/\/127\.0\.0\.1:\d+) /.exec(line))
      .find(Boolean);
    expect(api, lines.join('\n')).toBeTruthy();
    // The dashboard's address, on the same API: its page, for a browser to open.
    const dashboard = lines.map((line) => /^dashboard: (http:\/\/\S+)$/.exec(line)).find(Boolean);
    expect(dashboard?.[1], lines.join('\n')).toBe(`${api![1]}/`);
    const page = await fetch(dashboard![1]!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<title>[^<]*taskqueue/i);
    await expect
      .poll(
        async () => {
          const response = await fetch(`${api![1]}/v1/tasks?state=succeeded&limit=5`);
          const { tasks } = (await response.json()) as { tasks: Array<{ id: string }> };
          return tasks.map((task) => task.id).filter((id) => /^demo-\d+$/.test(id)).length;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const tally = lines
      .map((line) => /^(\d+) tasks sent, (\d+) answered\.$/.exec(line))
      .find(Boolean);
    expect(tally, lines.join('\n')).toBeTruthy();
    expect(Number(tally![2])).toBeGreaterThan(0);
    expect(Number(tally![2])).toBeLessThanOrEqual(Number(tally![1]));
    // Nothing went wrong in the daemons.
    expect(lines.filter((line) => line.startsWith('!!'))).toEqual([]);
  });
});
