import type { Scenario } from '../harness/harness.js';
import { numberedTasks } from '../harness/tasks.js';
import { sleep } from '../harness/util.js';

const TASKS = 5000;
const DOWN_MS = 15_000;
const NODES = 3;

/**
 * (e) A cluster of 3 private nodes, quorum queues, every program given all three URLs. Mid-run
 * (a quarter of the tasks answered) the node holding most AMQP connections (where the queues'
 * leaders were declared) is stopped; the programs fail over by themselves. 15 s later the node is
 * started again and rejoins while the tasks still flow.
 */
export const scenario: Scenario = {
  name: 'e-cluster-node-down',
  title: `${NODES}-node cluster, quorum queues: stop the busiest node during ${TASKS} tasks`,
  limitMs: 420_000,
  async run(h) {
    const broker = await h.broker(NODES);
    const fleet = h.fleet({
      urls: broker.urls,
      queueType: 'quorum',
      sections: '[echo]\nworkers = 4\n',
    });
    await fleet.dispatcher();
    await fleet.pool('echo', 4);
    const collector = await h.collect(broker.urls);
    h.publish(broker.urls, numberedTasks(TASKS), { ratePerSecond: 150 });
    await h.repeat('stop the busiest node', { everyMs: 0, max: 1, maxMs: 180_000 }, async () => {
      if (!(await h.waitFor(() => collector.distinct >= TASKS / 4, 120_000))) return false;
      const connections = await broker.connectionsPerNode();
      const [busiest] = [...connections].sort((x, y) => y[1] - x[1])[0] ?? [];
      const victim = broker.nodes.find((n) => n.nodeName === busiest) ?? broker.nodes[0]!;
      h.say(
        `connections per node: ${[...connections].map(([n, c]) => `${n} ${c}`).join(', ')}; ` +
          `stopping ${victim.nodeName} at ${collector.distinct} results`,
      );
      await victim.halt();
      await sleep(DOWN_MS, h.signal);
      h.say(`starting ${victim.nodeName} again at ${collector.distinct} results`);
      await victim.resume();
      return true;
    });
    await h.settle();
    for (const kind of ['dispatcher', 'workerpool'] as const) {
      if (fleet.grep(/broker connection lost/, kind).length === 0) {
        h.note(`${kind} never lost its connection (it was not on the stopped node)`);
      }
    }
  },
};
