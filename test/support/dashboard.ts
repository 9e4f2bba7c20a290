import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { type ApiStack, eventually, startApiStack } from './api-program.js';
import { OPERATE_TOKEN } from './api-server.js';
import { useVhost } from './broker.js';
import { DESKTOP, launchBrowser, type TestBrowser, type TestPage } from './browser.js';

/** The worker type whose tasks a test poisons: its child dies until a file exists. */
export const POISON_TYPE = 'exit-until-file';

/**
 * The dashboard as installed: `taskqueue-api` serving the built dist/dashboard, beside a real
 * dispatcher and pool with [tracking] on (echo, throw, slow, exit-until-file poisoned after two
 * deaths, and crash-on-start, a group that fails), and a Chromium to look at it with.
 */
export interface DashboardStack {
  stack: ApiStack;
  browser: TestBrowser;
  /** A directory the pool's children (nobody) can look into, for exit-until-file's files. */
  dir: string;
  /** A new tab signed in with `token`, on the overview, once the page says who it is. */
  signIn(token: string, viewport?: { width: number; height: number }): Promise<TestPage>;
  /** Submits through the API with the operate token; the task as the answer gave it. */
  submit(body: Record<string, unknown>): Promise<TaskRecord>;
  /** Submits a task of POISON_TYPE that waits for `file`, and waits until it is parked. */
  poison(file: string): Promise<TaskRecord>;
  stop(): Promise<void>;
}

/** What the header shows for each role (contract: data-testid="role"). */
export const ROLE_TEXT = { read: 'read-only', retry: 'may retry', operate: 'operator' } as const;

export async function startDashboard(label: string): Promise<DashboardStack> {
  const url = await useVhost(label);
  const dir = mkdtempSync(join(tmpdir(), 'tq-browser-'));
  chmodSync(dir, 0o755);
  let stack: ApiStack | undefined;
  let browser: TestBrowser | undefined;
  const stop = async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    stack = await startApiStack(url, ['echo', 'throw', 'slow', POISON_TYPE, 'crash-on-start'], {
      sections: [
        `[${POISON_TYPE}]\nworkers = 1\nmax_crashes = 2`,
        // Long enough that a row is seen running before it succeeds; one at a time, the next two
        // held waiting (the pools table shows them).
        '[slow]\nworkers = 1\nprefetch = 3\nconcurrency = 1\nsleep_ms = 6000',
        // A group that fails (its plugin cannot start), for the overview to flag.
        '[crash-on-start]\nworkers = 1',
      ].join('\n\n'),
      // The pools table shows the heartbeats: every second, not every 10.
      trackingLines: ['heartbeat_interval = 1'],
    });
    await stack.pool.waitForRunning(POISON_TYPE);
    browser = await launchBrowser();
  } catch (err) {
    await stop();
    throw err;
  }
  const api = stack;
  const chromium = browser;

  async function submit(body: Record<string, unknown>): Promise<TaskRecord> {
    const answer = await api.call('POST', '/v1/tasks', OPERATE_TOKEN, body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(201);
    return answer.json.task as TaskRecord;
  }

  return {
    stack: api,
    browser: chromium,
    dir,
    stop,
    submit,
    async signIn(token, viewport = DESKTOP) {
      const tab = await chromium.newPage(viewport);
      await tab.page.goto(`${api.base}/`);
      await tab.page.getByLabel('API token', { exact: true }).fill(token);
      await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await tab.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await tab.page.getByTestId('role').waitFor();
      return tab;
    },
    async poison(file) {
      const task = await submit({ type: POISON_TYPE, fields: { until_file: file }, reply: 60 });
      expect(task.state).toBe('poisoned');
      await eventually(async () => {
        const parked = await api.call('GET', `/v1/dead/${POISON_TYPE}`, OPERATE_TOKEN);
        const ids = ((parked.json.tasks ?? []) as Array<{ message_id: string }>).map(
          (t) => t.message_id,
        );
        return ids.includes(task.id) || undefined;
      }, `task ${task.id} parked on worker_${POISON_TYPE}.dead`);
      return task;
    },
  };
}

/**
 * The text of `locator` now as the page shows it (cells and list items apart, not run together
 * as in textContent), or '' when it is not on the page (for expect.poll).
 */
export const textOf = (locator: Locator): Promise<string> =>
  locator
    .first()
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is asserted
    .innerText({ timeout: 500 })
    .catch(() => '');

/** Waits until `locator`'s text matches `pattern` (the page updates it by itself). */
export async function waitForText(
  locator: Locator,
  pattern: RegExp | string,
  timeout = 30_000,
): Promise<void> {
  const wanted = typeof pattern === 'string' ? new RegExp(`^\\s*${pattern}\\s*$`) : pattern;
  await expect.poll(() => textOf(locator), { timeout, interval: 100 }).toMatch(wanted);
}

/** The row of the tasks table whose id link is `id`. */
export const taskRow = (page: Page, id: string): Locator =>
  page.getByRole('row').filter({ has: page.getByRole('link', { name: id, exact: true }) });

/** Buttons named exactly `name` on the page now. */
export const buttons = (page: Page, name: string): Promise<number> =>
  page.getByRole('button', { name, exact: true }).count();

/** What went wrong in the page, but the HTTP errors the test caused on purpose (401, 403). */
export const pageErrors = (tab: TestPage): string[] =>
  tab.errors.filter((line) => !/Failed to load resource: the server responded/.test(line));
