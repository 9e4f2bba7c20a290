// The callbacks given to page.evaluate run in the page: they see the DOM.
/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATE_TOKEN } from '../support/api-server.js';
import { PHONE, screenshot } from '../support/browser.js';
import {
  buttons,
  type DashboardStack,
  POISON_TYPE,
  pageErrors,
  ROLE_TEXT,
  startDashboard,
  taskRow,
  textOf,
  waitForText,
} from '../support/dashboard.js';

/**
 * The dashboard in Debian's Chromium, as an operator uses it, against the real API, broker,
 * dispatcher and pool: sign in, watch tasks live, read a failure, search, requeue and drop dead
 * letters, the overview on a desktop and a phone, the keyboard. Each page is photographed to
 * test-artifacts/screenshots/ (.ci/run lists them).
 */
describe('the dashboard, for an operator', () => {
  let dash: DashboardStack;
  let base = '';

  beforeAll(async () => {
    dash = await startDashboard('browser-dashboard');
    base = dash.stack.base;
  }, 120_000);

  afterAll(async () => {
    await dash?.stop();
  });

  const nav = (page: Page, name: string) =>
    page.getByRole('navigation').getByRole('link', { name, exact: true });
  const heading = (page: Page, name: string, level = 1) =>
    page.getByRole('heading', { level, name, exact: true });
  /** A queue's name in the queues table (a cell, or the header of its row). */
  const queueName = (page: Page, name: string) =>
    page
      .getByRole('cell', { name, exact: true })
      .or(page.getByRole('rowheader', { name, exact: true }))
      .first();
  /** The rows of the tasks table (each has its task's id as a link). */
  const taskRows = (page: Page) => page.getByRole('row').filter({ has: page.getByRole('link') });

  it('asks for a token, and refuses a wrong one with the API’s message', async () => {
    const tab = await dash.browser.newPage();
    const { page } = tab;
    await page.goto(`${base}/`);
    const token = page.getByLabel('API token', { exact: true });
    await token.waitFor();
    await page.getByRole('checkbox', { name: 'Remember on this browser', exact: true }).waitFor();
    await screenshot(page, 'sign-in');

    const wrong = 'not-a-token-of-this-api-0123';
    const refused = await fetch(`${base}/v1/tasks`, {
      headers: { authorization: `Bearer ${wrong}` },
    });
    expect(refused.status).toBe(401);
    const { error } = (await refused.json()) as { error: { message: string } };
    await token.fill(wrong);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitForText(page.getByRole('alert'), new RegExp(error.message));
    expect(await token.isVisible()).toBe(true);
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('keeps the token for the tab across a reload, and forgets it on Sign out', async () => {
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await waitForText(page.getByTestId('role'), new RegExp(`${ROLE_TEXT.operate}.*operator`));
    await page.reload();
    await heading(page, 'Overview').waitFor();
    await waitForText(page.getByTestId('role'), new RegExp(ROLE_TEXT.operate));
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByLabel('API token', { exact: true }).waitFor();
    await page.reload();
    await page.getByLabel('API token', { exact: true }).waitFor();
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('shows tasks submitted through the API appear and finish live, without a reload', async () => {
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await nav(page, 'Tasks').click();
    await heading(page, 'Tasks').waitFor();
    await waitForText(page.getByTestId('live'), 'live');
    // A reload would lose this.
    await page.evaluate(() => {
      (window as unknown as { notReloaded?: boolean }).notReloaded = true;
    });

    const slow = await dash.submit({ type: 'slow', fields: { n: 0 } });
    const quick = [];
    for (const n of [1, 2, 3]) quick.push(await dash.submit({ type: 'echo', fields: { n } }));
    // The slow one is seen on its way, then done; the quick ones done.
    await waitForText(taskRow(page, slow.id), /\b(submitted|queued|dispatched|running)\b/);
    for (const task of quick) await waitForText(taskRow(page, task.id), /\bsucceeded\b/);
    await waitForText(taskRow(page, slow.id), /\bsucceeded\b/);
    // The newest on top.
    expect(await textOf(taskRows(page).first())).toContain(quick[2]!.id);
    expect(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    await screenshot(page, 'tasks');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('opens a failed task from the list: its attempt, error and trace; Retry runs it again', async () => {
    const failed = await dash.submit({ type: 'throw', fields: { n: 7 }, reply: 30 });
    expect(failed.state).toBe('failed');
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await nav(page, 'Tasks').click();
    await page.getByRole('combobox', { name: 'State', exact: true }).selectOption('failed');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await taskRow(page, failed.id).getByRole('link', { name: failed.id, exact: true }).click();

    await heading(page, `Task ${failed.id}`).waitFor();
    expect(page.url()).toContain(`#/tasks/${failed.id}`);
    await waitForText(page.getByTestId('task-state'), 'failed');
    for (const name of ['Attempts', 'Result', 'Workitem']) await heading(page, name, 2).waitFor();
    const attempts = heading(page, 'Attempts', 2).locator('xpath=following::ol[1]/li');
    await waitForText(attempts.first(), /boom on 7/);
    expect(await textOf(attempts.first())).toContain(String(failed.attempts[0]!.pid));
    // The trace is the plugin's stack, in the result the child sent back.
    await page.locator('pre').filter({ hasText: 'ThrowWorker.handleTask' }).first().waitFor();
    expect(await buttons(page, 'Copy id')).toBe(1);
    expect(await buttons(page, 'Copy link')).toBe(1);
    expect(await buttons(page, 'Cancel')).toBe(0);
    await screenshot(page, 'task');

    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    // Run 2 fails too (throw always does): its attempt appears without a reload.
    await expect.poll(() => attempts.count(), { timeout: 30_000 }).toBe(2);
    await waitForText(page.getByTestId('task-state'), 'failed');
    const stored = await dash.stack.call('GET', `/v1/tasks/${failed.id}`, OPERATE_TOKEN);
    expect(stored.json.task).toMatchObject({ state: 'failed', run: 2 });
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('finds a task by a workitem field, in a link that can be shared, and opens one by its id', async () => {
    const tag = `linux-${randomUUID().slice(0, 8)}`;
    const wanted = await dash.submit({ type: 'echo', fields: { repo: tag }, reply: 30 });
    const other = await dash.submit({ type: 'echo', fields: { repo: 'other' }, reply: 30 });
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await nav(page, 'Tasks').click();
    await heading(page, 'Tasks').waitFor();
    const search = page.getByRole('textbox', { name: 'Search', exact: true });
    await search.fill(`repo=${tag}`);
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await taskRow(page, wanted.id).waitFor();
    await expect.poll(() => taskRows(page).count()).toBe(1);
    expect(await taskRow(page, other.id).count()).toBe(0);
    const shared = page.url();
    expect(decodeURIComponent(shared)).toContain(`q=repo=${tag}`);

    // The same link in another tab (signed in there too) shows the same search.
    const second = await dash.signIn(OPERATE_TOKEN);
    await second.page.goto(shared);
    await taskRow(second.page, wanted.id).waitFor();
    await expect.poll(() => taskRows(second.page).count()).toBe(1);
    await second.page.close();

    await search.fill(other.id);
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await heading(page, `Task ${other.id}`).waitFor();
    await waitForText(page.getByTestId('task-state'), 'succeeded');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('requeues a poisoned task from the dead-letter page, and it runs again and succeeds', async () => {
    const marker = join(dash.dir, `requeue-${randomUUID()}`);
    const task = await dash.poison(marker);
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await nav(page, 'Dead letters').click();
    await heading(page, 'Dead letters').waitFor();
    await page
      .getByRole('link', { name: new RegExp(POISON_TYPE) })
      .first()
      .click();
    const select = page.getByRole('checkbox', { name: `Select ${task.id}`, exact: true });
    await select.waitFor();
    const row = page.getByRole('row').filter({ has: select });
    await waitForText(row, /TQ_ERR_TASK_POISON/);
    for (const name of ['Requeue selected', 'Drop selected', 'Requeue all', 'Drop all'])
      expect(await buttons(page, name), name).toBe(1);
    await screenshot(page, 'dead-letters');

    // The cause dealt with: the child finds its file now.
    writeFileSync(marker, '');
    await row.getByRole('button', { name: 'Requeue', exact: true }).click();
    await page
      .getByText(/requeued 1\b/)
      .first()
      .waitFor();
    await expect.poll(() => select.count(), { timeout: 30_000 }).toBe(0);
    await page.goto(`${base}/#/tasks/${task.id}`);
    await heading(page, `Task ${task.id}`).waitFor();
    await waitForText(page.getByTestId('task-state'), 'succeeded', 60_000);
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('drops every dead letter of a queue after a dry-run count in a dialog', async () => {
    const task = await dash.poison(join(dash.dir, `never-${randomUUID()}`));
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await page.goto(`${base}/#/dead/${POISON_TYPE}`);
    const select = page.getByRole('checkbox', { name: `Select ${task.id}`, exact: true });
    await select.waitFor();
    await page.getByRole('button', { name: 'Drop all', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await waitForText(dialog, /\b1 tasks? would be dropped\b/);
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page
      .getByText(/dropped 1\b/)
      .first()
      .waitFor();
    await expect.poll(() => select.count(), { timeout: 30_000 }).toBe(0);
    const parked = await dash.stack.call('GET', `/v1/dead/${POISON_TYPE}`, OPERATE_TOKEN);
    expect(parked.json.total).toBe(0);
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('overview: queues, pools and their failed group, throughput; at 1280 px and on a phone', async () => {
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    for (const name of ['Queues', 'Pools', 'Failed groups', 'Throughput'])
      await heading(page, name, 2).waitFor();
    await queueName(page, 'taskqueue').waitFor();
    await waitForText(page.getByRole('main'), new RegExp(hostname()));
    // crash-on-start's children never start: the pool gives the group up after its restarts,
    // and it is listed; the groups that serve are not.
    const failedGroups = heading(page, 'Failed groups', 2).locator('xpath=..');
    await waitForText(failedGroups, /crash-on-start/, 120_000);
    expect(await textOf(failedGroups)).not.toMatch(/\b(echo|throw|slow)\b/);
    await page.locator('canvas').first().waitFor();
    // Three slow tasks to a child that runs one at a time and holds three: the pools table
    // shows the ones held but not started as waiting.
    for (const n of [1, 2, 3]) await dash.submit({ type: 'slow', fields: { n } });
    const pools = heading(page, 'Pools', 2).locator('xpath=..');
    await waitForText(pools, /\b[23] in hand, [12] waiting\b/, 30_000);
    // A task finishing while the page is open shows up on it without a reload.
    await waitForText(page.getByTestId('live'), 'live');
    const fresh = await dash.submit({ type: 'echo', fields: { n: 'overview' } });
    await page.getByRole('link', { name: fresh.id, exact: true }).first().waitFor();
    await screenshot(page, 'overview');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();

    const phone = await dash.signIn(OPERATE_TOKEN, PHONE);
    for (const name of ['Queues', 'Pools', 'Throughput'])
      await heading(phone.page, name, 2).waitFor();
    await queueName(phone.page, 'taskqueue').waitFor();
    await waitForText(
      heading(phone.page, 'Failed groups', 2).locator('xpath=..'),
      /crash-on-start/,
    );
    await phone.page.locator('canvas').first().waitFor();
    // Wide tables scroll in their own box: the page itself is no wider than the phone.
    expect(
      await phone.page.evaluate(() => document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(PHONE.width);
    await screenshot(phone.page, 'overview-phone');
    expect(pageErrors(phone)).toEqual([]);
    await phone.page.close();
  }, 180_000);

  it('keyboard: the skip link comes first, Tab reaches the nav links, the skip link goes to the content', async () => {
    const tab = await dash.signIn(OPERATE_TOKEN);
    const { page } = tab;
    await page.reload();
    await heading(page, 'Overview').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        const style = element ? getComputedStyle(element) : undefined;
        return {
          text: element?.textContent?.trim() ?? '',
          inMain: Boolean(document.querySelector('main')?.contains(element)),
          outline: style ? style.outlineStyle !== 'none' && style.outlineWidth !== '0px' : false,
        };
      });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Skip to content', outline: true });

    const reached: string[] = [];
    for (let press = 0; press < 15 && !reached.includes('Dead letters'); press++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      if (['Overview', 'Tasks', 'Dead letters'].includes(now.text)) {
        expect(now.outline, `focus outline on ${now.text}`).toBe(true);
        reached.push(now.text);
      }
    }
    expect(reached).toEqual(['Overview', 'Tasks', 'Dead letters']);
    await page.keyboard.press('Enter');
    await heading(page, 'Dead letters').waitFor();

    await page.reload();
    await heading(page, 'Dead letters').waitFor();
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused()).inMain).toBe(true);
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });
});
