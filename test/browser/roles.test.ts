// The callbacks given to page.evaluate run in the page: they see the DOM.
/// <reference lib="dom" />
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { OPERATE_TOKEN, READ_TOKEN, RETRY_TOKEN } from '../support/api-server.js';
import {
  buttons,
  type DashboardStack,
  POISON_TYPE,
  pageErrors,
  ROLE_TEXT,
  startDashboard,
  waitForText,
} from '../support/dashboard.js';

/** Every button that changes something, as the contract names them. */
const OPERATING = [
  'Retry',
  'Cancel',
  'Requeue',
  'Drop',
  'Requeue selected',
  'Drop selected',
  'Requeue all',
  'Drop all',
];

/**
 * What a token may do is what the page shows (no button it may not press), and the API refuses
 * the route anyway when the page is bypassed: a `read` token and a `retry` token in Chromium,
 * against the real API, with a failed task, one still waiting, and a poisoned one parked.
 */
describe('the dashboard shows each role what it may do, and the API refuses the rest', () => {
  let dash: DashboardStack;
  let failed: TaskRecord;
  let waiting: TaskRecord;
  let parked: TaskRecord;

  beforeAll(async () => {
    dash = await startDashboard('browser-roles');
    failed = await dash.submit({ type: 'throw', fields: { n: 1 }, reply: 30 });
    expect(failed.state).toBe('failed');
    // `late` is a plugin no group of this pool runs: its task waits on worker_late, not final.
    waiting = await dash.submit({ type: 'late', fields: { n: 2 } });
    parked = await dash.poison(join(dash.dir, 'never-made'));
  }, 180_000);

  afterAll(async () => {
    await dash?.stop();
  });

  /** Opens the task page of `task` and waits until it shows the task's state. */
  async function openTask(page: Page, task: TaskRecord, state: RegExp | string): Promise<void> {
    await page.goto(`${dash.stack.base}/#/tasks/${task.id}`);
    await page.getByRole('heading', { level: 1, name: `Task ${task.id}`, exact: true }).waitFor();
    await waitForText(page.getByTestId('task-state'), state);
    // The page is drawn: its always-there buttons are.
    await page.getByRole('button', { name: 'Copy id', exact: true }).waitFor();
  }

  /** Opens the dead letters of POISON_TYPE and waits for the parked task's row. */
  async function openDead(page: Page): Promise<void> {
    await page.goto(`${dash.stack.base}/#/dead/${POISON_TYPE}`);
    await page.getByRole('heading', { level: 1, name: 'Dead letters', exact: true }).waitFor();
    await page.getByRole('row').filter({ hasText: parked.id }).first().waitFor();
  }

  /** POSTs from the page itself, with `token`, as a script bypassing the UI would: the statuses. */
  const postFromPage = (page: Page, token: string, paths: Record<string, [string, unknown]>) =>
    page.evaluate(
      async ({ token, paths }) => {
        const statuses: Record<string, number> = {};
        for (const [name, [path, body]] of Object.entries(paths)) {
          const response = await fetch(path, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          statuses[name] = response.status;
        }
        return statuses;
      },
      { token, paths },
    );

  it('an operator sees Cancel on a task still waiting (what the others must not see)', async () => {
    const tab = await dash.signIn(OPERATE_TOKEN);
    await openTask(tab.page, waiting, /^\s*(queued|dispatched)\s*$/);
    expect(await buttons(tab.page, 'Cancel')).toBe(1);
    await openDead(tab.page);
    expect(await buttons(tab.page, 'Drop all')).toBe(1);
    await tab.page.close();
  });

  it('a read token sees everything and no operating button; the API refuses it each route', async () => {
    const tab = await dash.signIn(READ_TOKEN);
    const { page } = tab;
    await waitForText(page.getByTestId('role'), new RegExp(`${ROLE_TEXT.read}.*reader`));
    for (const [task, state] of [
      [failed, 'failed'],
      [waiting, /^\s*(queued|dispatched)\s*$/],
      [parked, 'poisoned'],
    ] as const) {
      await openTask(page, task, state);
      for (const name of OPERATING) expect(await buttons(page, name), name).toBe(0);
    }
    await openDead(page);
    for (const name of OPERATING) expect(await buttons(page, name), name).toBe(0);

    const statuses = await postFromPage(page, READ_TOKEN, {
      retry: [`/v1/tasks/${failed.id}/retry`, {}],
      cancel: [`/v1/tasks/${waiting.id}/cancel`, {}],
      requeue: [`/v1/dead/${POISON_TYPE}/requeue`, { ids: [parked.id] }],
      drop: [`/v1/dead/${POISON_TYPE}/drop`, { ids: [parked.id] }],
      submit: ['/v1/tasks', { type: 'echo', fields: {} }],
    });
    expect(statuses).toEqual({ retry: 403, cancel: 403, requeue: 403, drop: 403, submit: 403 });
    // Nothing changed.
    const task = await dash.stack.call('GET', `/v1/tasks/${failed.id}`, READ_TOKEN);
    expect(task.json.task).toMatchObject({ state: 'failed' });
    expect((task.json.task as TaskRecord).run).toBeUndefined();
    const dead = await dash.stack.call('GET', `/v1/dead/${POISON_TYPE}`, READ_TOKEN);
    expect(dead.json.total).toBe(1);
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('a retry token sees Retry and Requeue but not Cancel or Drop; the API refuses it those', async () => {
    const tab = await dash.signIn(RETRY_TOKEN);
    const { page } = tab;
    await waitForText(page.getByTestId('role'), new RegExp(`${ROLE_TEXT.retry}.*retrier`));
    await openTask(page, waiting, /^\s*(queued|dispatched)\s*$/);
    expect(await buttons(page, 'Cancel')).toBe(0);
    await openDead(page);
    for (const name of ['Requeue', 'Requeue selected', 'Requeue all'])
      expect(await buttons(page, name), name).toBe(1);
    for (const name of ['Drop', 'Drop selected', 'Drop all'])
      expect(await buttons(page, name), name).toBe(0);

    const statuses = await postFromPage(page, RETRY_TOKEN, {
      cancel: [`/v1/tasks/${waiting.id}/cancel`, {}],
      drop: [`/v1/dead/${POISON_TYPE}/drop`, { ids: [parked.id] }],
      submit: ['/v1/tasks', { type: 'echo', fields: {} }],
    });
    expect(statuses).toEqual({ cancel: 403, drop: 403, submit: 403 });

    // What it may do, it can: Retry on the failed task runs it again (and it fails again).
    await openTask(page, failed, 'failed');
    expect(await buttons(page, 'Cancel')).toBe(0);
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect
      .poll(
        async () => {
          const task = await dash.stack.call('GET', `/v1/tasks/${failed.id}`, READ_TOKEN);
          const record = task.json.task as TaskRecord;
          return `${record.state} ${record.run}`;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe('failed 2');
    await waitForText(page.getByTestId('task-state'), 'failed');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });
});
