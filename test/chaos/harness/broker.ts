/**
 * The chaos suite's brokers: one private RabbitMQ node, or a cluster of private nodes that share
 * an Erlang cookie and an epmd (dev/src/rabbitmq-node.ts). Never the shared broker on 5672.
 */
import { randomBytes } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import { errorText, within } from './util.js';

/** One queue as `rabbitmqctl list_queues` reports it. */
export interface QueueRow {
  name: string;
  /** Ready + unacknowledged. */
  messages: number;
  ready: number;
  unacked: number;
}

export class ChaosBroker {
  /** In cluster order: nodes[0] started first and owns the shared epmd. */
  readonly nodes: RabbitNode[];
  readonly #say: (line: string) => void;

  private constructor(nodes: RabbitNode[], say: (line: string) => void) {
    this.nodes = nodes;
    this.#say = say;
  }

  /** One node (`size` 1) or a cluster of `size` nodes joined to the first. */
  static async start(size: number, say: (line: string) => void): Promise<ChaosBroker> {
    const log = (line: string) => say(`rabbit: ${line}`);
    if (size === 1) return new ChaosBroker([await RabbitNode.start({ log })], say);
    const cookie = randomBytes(20).toString('hex').toUpperCase();
    const first = await RabbitNode.start({ log, cookie });
    const started = await Promise.allSettled(
      Array.from({ length: size - 1 }, () =>
        RabbitNode.start({ log, cookie, epmdPort: first.epmdPort }),
      ),
    );
    const nodes = [first, ...started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))];
    const broker = new ChaosBroker(nodes, say);
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      // One at a time: each join changes the cluster's membership.
      for (const node of nodes.slice(1)) await node.joinCluster(first);
      const status = JSON.parse(await first.ctl(['cluster_status', '--formatter', 'json'])) as {
        running_nodes: string[];
      };
      if (status.running_nodes.length !== size) {
        throw new Error(`cluster has ${status.running_nodes.length} of ${size} nodes running`);
      }
      say(`cluster of ${size} nodes: ${nodes.map((n) => n.nodeName).join(', ')}`);
    } catch (err) {
      await broker.destroy();
      throw err;
    }
    return broker;
  }

  /** The AMQP URL of every node, in cluster order (a program's `urls`). */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** Every queue of the default vhost with its counts, asked of the first running node. */
  async queues(): Promise<QueueRow[]> {
    const node = this.nodes.find((n) => n.running);
    if (!node) throw new Error('no broker node is running');
    const out = await node.ctl([
      'list_queues',
      '-q',
      '--formatter',
      'json',
      'name',
      'messages',
      'messages_ready',
      'messages_unacknowledged',
    ]);
    const rows = JSON.parse(out.trim() || '[]') as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      name: String(r.name),
      messages: Number(r.messages ?? 0),
      ready: Number(r.messages_ready ?? 0),
      unacked: Number(r.messages_unacknowledged ?? 0),
    }));
  }

  /**
   * AMQP connections per node name. The table output shows a connection's Erlang pid as
   * `<node@host.N.N.N>`, which names the node that holds it (JSON output hides the name).
   */
  async connectionsPerNode(): Promise<Map<string, number>> {
    const node = this.nodes.find((n) => n.running);
    const counts = new Map<string, number>();
    if (!node) return counts;
    const out = await node.ctl(['list_connections', '-q', '--no-table-headers', 'pid']);
    for (const line of out.split('\n')) {
      const name = /^<(.+@[^.]+)\./.exec(line.trim())?.[1];
      if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  /** Copies each node's RabbitMQ log directory into `dir` (before destroy() removes them). */
  async saveLogs(dir: string): Promise<void> {
    for (const node of this.nodes) {
      await cp(join(node.dir, 'log'), join(dir, `rabbit-${node.nodeName}`), {
        recursive: true,
      }).catch(() => {});
    }
  }

  /** Stops every node (the epmd's owner last) and removes their directories. Bounded. */
  async destroy(): Promise<void> {
    for (const node of [...this.nodes.slice(1).reverse(), this.nodes[0]!]) {
      try {
        await within(node.destroy(), 60_000, `stopping ${node.nodeName}`);
      } catch (err) {
        this.#say(`could not stop ${node.nodeName}: ${errorText(err)}`);
        node.signalServer('SIGKILL');
      }
    }
  }
}
