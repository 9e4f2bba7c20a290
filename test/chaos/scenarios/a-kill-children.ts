import type { Scenario } from '../harness/harness.js';
import { numberedTasks } from '../harness/tasks.js';

const TASKS = 5000;
const WORKERS = 4;

/**
 * (a) SIGKILL a random running child of the pool every 200 ms while 5000 tasks run. Children
 * still starting are spared: a death at startup counts towards the group's restart intensity (5
 * in 60 s), and once kills of working children had put all 4 in restart at once, every kill hit
 * a starting child and the pool, as designed, gave up on the group (CI, a slow evening).
 */
export const scenario: Scenario = {
  name: 'a-kill-children',
  title: `SIGKILL a random running pool child every 200 ms while ${TASKS} tasks run`,
  limitMs: 300_000,
  async run(h) {
    const broker = await h.broker();
    const fleet = h.fleet({ urls: broker.urls, sections: `[echo]\nworkers = ${WORKERS}\n` });
    await fleet.dispatcher();
    const pool = await fleet.pool('echo', WORKERS);
    const collector = await h.collect(broker.urls);
    h.publish(broker.urls, numberedTasks(TASKS));
    await h.repeat(
      'SIGKILL a random running pool child',
      {
        everyMs: 200,
        max: 2_000,
        maxMs: 240_000,
        until: () => collector.distinct >= TASKS || Date.now() - collector.lastProgressAt > 30_000,
      },
      () => {
        const children = fleet.runningChildren(pool);
        if (children.length === 0) return false;
        process.kill(h.random.pick(children), 'SIGKILL');
        return true;
      },
    );
    await h.settle();
    const failed = fleet.grep(/"code":"TQ_ERR_GROUP_FAILED"/);
    if (failed.length > 0) h.note(`the pool gave up on the group: ${failed[0]!.slice(0, 400)}`);
  },
};
