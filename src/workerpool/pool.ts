import { backoffDelay } from '../common/amqp/backoff.js';
import type { Config, GroupConfig } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';
import { ChildHandle } from './child-handle.js';
import { decideIdentity } from './identity.js';
import type { ChildSpec } from './ipc.js';
import { discoverPlugins, pluginSearchPaths } from './plugins/discovery.js';
import { apiIncompatibility } from './plugins/load.js';

interface RunningGroup {
  group: GroupConfig;
  spec: ChildSpec;
  children: Set<ChildHandle>;
  restarts: number;
}

/**
 * Starts the configured children of every installed plugin and replaces the ones that exit.
 * (The full supervisor — restart intensity, reload, recycling — builds on this.)
 */
export class WorkerPool {
  #config: Config;
  #log: Logger;
  #groups: RunningGroup[] = [];
  #stopping = false;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  /** Forks every group's children; returns the groups it started. */
  start(): GroupConfig[] {
    const { workerpool } = this.#config;
    const discovery = discoverPlugins(pluginSearchPaths(workerpool.pluginPaths));
    for (const { plugin, by } of discovery.shadowed) {
      this.#log.warn(
        { type: plugin.type, path: plugin.dir, by: by.dir },
        'plugin shadowed by an earlier one',
      );
    }
    for (const type of this.#config.configuredTypes) {
      if (!discovery.plugins.has(type)) {
        this.#log.error(
          { type, paths: discovery.paths },
          `config has a section for ${type} but no plugin provides it`,
        );
      }
    }
    for (const [type, plugin] of discovery.plugins) {
      if (workerpool.enabled !== '*' && !workerpool.enabled.includes(type)) continue;
      const incompatible = apiIncompatibility(plugin);
      if (incompatible) {
        this.#log.error({ type, path: plugin.dir }, `plugin refused: ${incompatible}`);
        continue;
      }
      for (const group of this.#config.groupsFor(type)) {
        const identity = decideIdentity(group);
        if (!identity.ok) {
          this.#log.error({ group: group.name }, `group refused: ${identity.reason}`);
          continue;
        }
        if (identity.note) this.#log.warn({ group: group.name }, identity.note);
        const spec: ChildSpec = {
          group,
          amqp: this.#config.amqp,
          pluginDir: plugin.dir,
          identity: identity.identity,
          logLevel: workerpool.logLevel,
        };
        const running: RunningGroup = { group, spec, children: new Set(), restarts: 0 };
        this.#groups.push(running);
        for (let i = 0; i < group.workers; i++) this.#startChild(running);
        this.#log.info(
          { group: group.name, workers: group.workers, user: identity.identity?.user },
          'group started',
        );
      }
    }
    return this.#groups.map((g) => g.group);
  }

  /** Drains every child within `shutdown_timeout`, then kills what is left. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const deadline = this.#config.workerpool.shutdownTimeout * 1000;
    await Promise.all(
      this.#groups.flatMap((g) => [...g.children].map((child) => child.stop(deadline))),
    );
  }

  #startChild(running: RunningGroup): void {
    const child = new ChildHandle(running.spec);
    running.children.add(child);
    const log = this.#log.child({ group: running.group.name, child: child.pid });
    child.on('ready', () => {
      running.restarts = 0;
      log.info('child ready');
    });
    child.on('fatal', (message: { code: string; message: string }) => {
      log.error({ code: message.code }, `child failed to start: ${message.message}`);
    });
    child.on('exit', ({ code, signal }: { code: number | null; signal: string | null }) => {
      running.children.delete(child);
      if (this.#stopping) return;
      const delay = backoffDelay(running.restarts++, { baseMs: 500, maxMs: 60_000 });
      log.warn({ code, signal, restartInMs: delay }, 'child exited; restarting');
      setTimeout(() => {
        if (!this.#stopping) this.#startChild(running);
      }, delay);
    });
  }
}
