import type { Scenario } from '../harness/harness.js';
import { numberedTasks } from '../harness/tasks.js';

const TASKS = 5000;
const KILLS = 5;

/**
 * (b) kill -9 the dispatcher 5 times during 5000 tasks, restarting it each time. The tasks are
 * published at a steady rate, so each kill lands while the dispatcher holds unacked input.
 */
export const scenario: Scenario = {
  name: 'b-kill-dispatcher',
  title: `kill -9 the dispatcher ${KILLS} times during ${TASKS} tasks (restarted each time)`,
  limitMs: 300_000,
  async run(h) {
    const broker = await h.broker();
    const fleet = h.fleet({ urls: broker.urls, sections: '[echo]\nworkers = 4\n' });
    let dispatcher = await fleet.dispatcher();
    await fleet.pool('echo', 4);
    await h.collect(broker.urls);
    const publisher = h.publish(broker.urls, numberedTasks(TASKS), { ratePerSecond: 1000 });
    await h.repeat(
      'kill -9 the dispatcher',
      { everyMs: 0, max: KILLS, maxMs: 120_000 },
      async (i) => {
        // Kill number i+1 when that share of the tasks is in the input queue.
        const share = Math.round(((i + 1) * TASKS) / (KILLS + 1));
        await h.waitFor(() => publisher.confirmed >= share, 60_000);
        await fleet.kill(dispatcher);
        h.say(`killed ${dispatcher.label} at ${publisher.confirmed} published`);
        dispatcher = await fleet.dispatcher();
        return true;
      },
    );
    await h.settle();
  },
};
