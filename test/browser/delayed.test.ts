// The callbacks given to page.evaluate run in the page: they see the DOM.
/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayQueueDeclaration } from '../../src/common/amqp/delay.js';
import { delayQueue } from '../../src/common/amqp/delay-names.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { type RunningApi, startTestApi } from '../support/api-program.js';
import { OPERATE_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { launchBrowser, screenshot, type TestBrowser, type TestPage } from '../support/browser.js';
import { pageErrors, taskRow, textOf, waitForText } from '../support/dashboard.js';
import { testConfig } from '../support/programs.js';

/**
 * Delayed tasks in the dashboard (issue 30), in Debian's Chromium against the real API daemon
 * and broker: a task submitted with notBefore in 1 h shows `delayed` with its due time on the
 * tasks page (a "due" column) and on its own page ("waits until", and its deadline), the state
 * filter offers `delayed`, and the overview says how many tasks wait in the delay ladder. No
 * dispatcher runs: what is asserted is what the API records and shows, not the ladder's timing
 * (helper ladder's tests).
 */
describe('the dashboard with delayed tasks', () => {
  let api: RunningApi;
  let browser: TestBrowser;
  let client: TestClient;

  beforeAll(async () => {
    const url = await useVhost('browser-delayed');
    client = await TestClient.connect(url);
    // Two tasks waiting in level queues of the ladder, declared as the ladder declares them
    // (the API declares the whole ladder for its own delayed task, and the broker would refuse
    // other arguments); levels whose TTL (27 min, 1.8 h) outlasts the test.
    for (const level of [14, 16]) {
      const { name, options } = delayQueueDeclaration(level, 'classic');
      await client.channel.assertQueue(name, options);
      await client.publish(delayQueue(level), workitem('echo'));
    }
    api = await startTestApi(testConfig(url, ['echo']));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await client?.close();
  });

  async function signIn(): Promise<TestPage> {
    const tab = await browser.newPage();
    await tab.page.goto(`${api.base}/`);
    await tab.page.getByLabel('API token', { exact: true }).fill(OPERATE_TOKEN);
    await tab.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await tab.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    return tab;
  }

  it('shows a task delayed 1 h with its due time on the tasks page and its own page', async () => {
    const notBefore = new Date(Date.now() + 3_600_000).toISOString();
    const expiresAt = new Date(Date.now() + 7_200_000).toISOString();
    const answer = await api.post('/v1/tasks', {
      type: 'echo',
      fields: { report: 'nightly' },
      notBefore,
      expiresAt,
    });
    expect(answer.status).toBe(201);
    const { task } = (await answer.json()) as { task: { id: string; state: string } };
    expect(task.state).toBe('delayed');
    const plain = (await (
      await api.post('/v1/tasks', { type: 'echo', fields: { now: true } })
    ).json()) as { task: { id: string } };

    const tab = await signIn();
    const { page } = tab;
    // The overview: the ladder's tasks, and the next one due from the store.
    await waitForText(
      page.getByTestId('delayed-summary'),
      // The two above, and the API's own task delayed 1 h: it went straight into the ladder.
      /3 tasks delayed in the broker, all due within .*; next due .* \(in (59|60) min, echo\)/,
    );
    await screenshot(page, 'delayed-overview');

    await page.goto(`${api.base}/#/tasks?state=delayed`);
    await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
    const row = taskRow(page, task.id);
    await waitForText(row, /\bdelayed\b/);
    // The due column: the time in the browser's zone (UTC here), and how long until then.
    const due = row.getByTestId('task-due');
    expect(await textOf(due)).toMatch(/\(in (59|60) min\)/);
    expect(await due.locator('time').getAttribute('datetime')).toBe(notBefore);
    expect(await page.getByRole('columnheader', { name: 'due', exact: true }).count()).toBe(1);
    // Only delayed tasks under that filter; the state filter offers it.
    expect(await taskRow(page, plain.task.id).count()).toBe(0);
    expect(await page.locator('#f-state').inputValue()).toBe('delayed');
    expect(
      await page
        .locator('#f-state option')
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)),
    ).toContain('delayed');
    await screenshot(page, 'delayed-tasks');

    await row.getByRole('link', { name: task.id, exact: true }).click();
    await waitForText(page.getByTestId('task-state'), 'delayed');
    const waits = page.getByTestId('task-not-before');
    expect(await textOf(waits)).toMatch(/\(in (59|60) min\)/);
    expect(await waits.locator('time').getAttribute('datetime')).toBe(notBefore);
    expect(await page.getByText('waits until', { exact: true }).count()).toBe(1);
    expect(await page.getByTestId('task-deadline').locator('time').getAttribute('datetime')).toBe(
      expiresAt,
    );
    await screenshot(page, 'delayed-task');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });

  it('cancels a delayed task from its page: cancelled at once', async () => {
    const notBefore = new Date(Date.now() + 3_600_000).toISOString();
    const { task } = (await (
      await api.post('/v1/tasks', { type: 'echo', fields: {}, notBefore })
    ).json()) as { task: { id: string } };
    const tab = await signIn();
    const { page } = tab;
    await page.goto(`${api.base}/#/tasks/${task.id}`);
    await waitForText(page.getByTestId('task-state'), 'delayed');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await waitForText(page.getByTestId('task-state'), 'cancelled');
    expect(pageErrors(tab)).toEqual([]);
    await page.close();
  });
});
