import { fileURLToPath } from 'node:url';
import { apiVersion } from '@taskqueue/plugin-api';
import { withTlsMaterial } from '../common/amqp/tls-material.js';
import type { Config } from '../common/config/types.js';
import type { ErrorCode } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { CHILD_ENTRY } from './child-command.js';
import { apiIncompatibility } from './discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from './discovery/discovery.js';
import { misplacedPluginPaths } from './discovery/plugin-paths.js';
import { decideGroup } from './group-decision.js';
import type { ChildSpec } from './ipc.js';
import type { PoolStats } from './stats-totals.js';
import { readRss } from './status/rss.js';
import { buildPoolStatus, type PoolStatus } from './status/snapshot.js';
import {
  type ChildView,
  DEFAULT_POLICY,
  type GroupPolicy,
  type GroupSummary,
  GroupSupervisor,
} from './supervisor/group.js';
import { TaskLedger } from './supervisor/ledger.js';
import { BROKER_CONSUMER_TIMEOUT_S } from './timeouts.js';

/** A group of the config that does not run here, and why (`taskqueue status` shows it). */
export interface RefusedGroup {
  name: string;
  type: string;
  code: ErrorCode;
  reason: string;
}

/**
 * The groups a config asks for on this host, and why the others do not run: logged, and added
 * to `refused`.
 */
export function plannedGroups(
  config: Config,
  log: Logger,
  refused: RefusedGroup[] = [],
): ChildSpec[] {
  const { workerpool } = config;
  const discovery = discoverPlugins(pluginSearchPaths(workerpool.pluginPaths));
  for (const { plugin, by } of discovery.shadowed) {
    log.warn(
      { type: plugin.type, path: plugin.dir, by: by.dir },
      'plugin shadowed by an earlier one',
    );
  }
  for (const { entry, warning } of misplacedPluginPaths(workerpool.pluginPaths)) {
    log.warn({ path: entry }, warning);
  }
  for (const { dir, reason } of discovery.broken)
    log.error({ path: dir }, `plugin unreadable: ${reason}`);
  for (const { path, reason } of discovery.untrusted)
    log.error({ path }, `plugin path refused: ${reason}`);
  for (const type of config.configuredTypes) {
    if (!discovery.plugins.has(type)) {
      const reason = `config has a section for ${type} but no plugin provides it`;
      log.error({ type, paths: discovery.paths }, reason);
      refused.push({ name: type, type, code: 'TQ_ERR_PLUGIN_MISSING', reason });
    }
  }
  // Read here, by the pool: the children run as plugin users who cannot read the client key.
  const amqp = withTlsMaterial(config.amqp);
  const specs: ChildSpec[] = [];
  for (const [type, plugin] of discovery.plugins) {
    if (workerpool.enabled !== '*' && !workerpool.enabled.includes(type)) continue;
    const incompatible = apiIncompatibility(plugin);
    if (incompatible) {
      log.error({ type, path: plugin.dir }, `plugin refused: ${incompatible}`);
      for (const group of config.groupsFor(type))
        refused.push({ name: group.name, type, code: 'TQ_ERR_PLUGIN_API', reason: incompatible });
      continue;
    }
    for (const group of config.groupsFor(type)) {
      // Refused here, once per start or reload: started, its children would fail (in setup,
      // or loading code their user cannot read) and be restarted forever.
      const decision = decideGroup(
        plugin,
        group,
        config.configuredTypes.includes(type),
        fileURLToPath(CHILD_ENTRY),
      );
      if (!decision.ok) {
        const fields = decision.unreadable
          ? { ...decision.unreadable, code: decision.code }
          : decision.missing
            ? { type, missing: decision.missing }
            : {};
        log.error({ group: group.name, ...fields }, `group refused: ${decision.reason}`);
        refused.push({ name: group.name, type, code: decision.code, reason: decision.reason });
        continue;
      }
      if (decision.note) log.warn({ group: group.name }, decision.note);
      specs.push({
        group,
        amqp,
        pluginDir: plugin.dir,
        pluginVersion: plugin.version,
        // Defined: apiIncompatibility refuses a plugin that declares no range.
        acceptedApi: { range: plugin.apiRange!, host: apiVersion },
        identity: decision.identity,
        logLevel: workerpool.logLevel,
        inputQueue: config.dispatcher.queue,
        tracking: config.tracking.enabled,
      });
    }
  }
  return specs;
}

/** Two specs that differ at most in the number of children: the running children can stay. */
function sameExceptCount(a: ChildSpec, b: ChildSpec): boolean {
  const withoutCount = (spec: ChildSpec) =>
    JSON.stringify({ ...spec, group: { ...spec.group, workers: 0 } });
  return withoutCount(a) === withoutCount(b);
}

/**
 * The worker pool: one GroupSupervisor per group of the config. `reload()` applies a new config
 * by difference: unchanged groups keep their children, a changed count only adds or stops
 * children, a changed group is drained and started anew, removed groups are drained.
 */
export class WorkerPool {
  #config: Config;
  #log: Logger;
  #policy: GroupPolicy;
  /** Where the children's counts and the restarts go, when metrics are on. */
  #stats: PoolStats | undefined;
  #groups = new Map<string, GroupSupervisor>();
  /** The config's groups that do not run, as the last start or reload found them. */
  #refused: RefusedGroup[] = [];
  /** One for all groups: instances of a type share its queue, so a task may move between them. */
  #ledger = new TaskLedger();
  #stopping: Promise<void> | undefined;
  /**
   * Keeps the pool alive with no group at all (every group refused, say by an unreadable
   * plugin): else Node's event loop empties and the daemon exits 0 at once, and the reload that
   * would retry them never comes.
   */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(
    config: Config,
    log: Logger,
    policy: GroupPolicy = DEFAULT_POLICY,
    stats: PoolStats | undefined = undefined,
  ) {
    this.#config = config;
    this.#log = log;
    this.#policy = policy;
    this.#stats = stats;
  }

  /** The groups now, for the metrics read at scrape time (pool-metrics.ts). */
  supervisors(): Iterable<GroupSupervisor> {
    return this.#groups.values();
  }

  start(): string[] {
    this.#keepAlive ??= setInterval(() => {}, 2 ** 31 - 1);
    const refused: RefusedGroup[] = [];
    for (const spec of plannedGroups(this.#config, this.#log, refused)) this.#startGroup(spec);
    this.#refused = refused;
    return [...this.#groups.keys()];
  }

  /** Resolves once every group started at `start()` has settled (running or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((group) => group.settled));
  }

  /** Every group's children, for status output and tests. */
  status(): Record<string, ChildView[]> {
    return Object.fromEntries([...this.#groups].map(([name, group]) => [name, group.children()]));
  }

  /** What `taskqueue status` shows (status/snapshot.ts): reads each child's held tasks and RSS. */
  snapshot(now = Date.now()): PoolStatus {
    return buildPoolStatus(
      [...this.#groups.values()].map((group) => group.snapshot()),
      { now, pid: process.pid, startedAt: now - process.uptime() * 1000, rss: readRss },
      this.#refused,
    );
  }

  /** Every group's state and counts, from memory alone: systemd's STATUS= line. */
  summary(): GroupSummary[] {
    return [...this.#groups.values()].map((group) => group.summary());
  }

  /** The config's groups that do not run here, and why. */
  refused(): RefusedGroup[] {
    return [...this.#refused];
  }

  /** Applies `config` (already validated) by difference. */
  async reload(config: Config): Promise<void> {
    // Planned first: when it throws (an unreadable TLS file), nothing has changed yet.
    const refused: RefusedGroup[] = [];
    const wanted = new Map(
      plannedGroups(config, this.#log, refused).map((spec) => [spec.group.name, spec]),
    );
    this.#config = config;
    this.#refused = refused;
    const draining: Promise<void>[] = [];
    for (const [name, group] of this.#groups) {
      const spec = wanted.get(name);
      if (spec && sameExceptCount(spec, group.spec)) {
        if (spec.group.workers !== group.spec.group.workers) {
          this.#log.info(
            { group: name, workers: spec.group.workers },
            'reload: new number of children',
          );
        }
        group.setWanted(spec.group.workers);
        // A reload is how an operator says "try again now": a failed or paused group does not
        // wait for the end of its pause.
        if (group.failed) {
          this.#log.info({ group: name }, 'reload: retrying failed group now');
          group.retryNow();
        }
        wanted.delete(name);
        continue;
      }
      // An upgrade is named: it is the change an operator least sees in the config file.
      const upgrade =
        spec && spec.pluginVersion !== group.spec.pluginVersion
          ? { pluginVersion: `${group.spec.pluginVersion} -> ${spec.pluginVersion}` }
          : {};
      this.#log.info(
        { group: name, ...upgrade },
        spec ? 'reload: group changed; restarting it' : 'reload: group removed; draining it',
      );
      this.#groups.delete(name);
      draining.push(group.stop(this.#drainMs()));
    }
    for (const spec of wanted.values()) {
      this.#log.info({ group: spec.group.name }, 'reload: starting group');
      this.#startGroup(spec);
    }
    await Promise.all(draining);
  }

  /** Drains every group within `shutdown_timeout`, then kills what is left; idempotent. */
  stop(): Promise<void> {
    clearInterval(this.#keepAlive);
    this.#stopping ??= Promise.all(
      [...this.#groups.values()].map((group) => group.stop(this.#drainMs())),
    ).then(() => {});
    return this.#stopping;
  }

  #startGroup(spec: ChildSpec): void {
    const stats = this.#stats;
    const group = new GroupSupervisor(spec, this.#drainMs(), this.#log, {
      policy: this.#policy,
      ledger: this.#ledger,
      onStats: stats && ((message) => stats.stats(spec.group, message)),
      onRestart: stats && ((cause) => stats.restart(spec.group, cause)),
    });
    warnAboutConsumerTimeout(spec, this.#log);
    this.#groups.set(spec.group.name, group);
    group.start();
    this.#log.info(
      { group: spec.group.name, workers: spec.group.workers, user: spec.identity?.user },
      'group started',
    );
  }

  #drainMs(): number {
    return this.#config.workerpool.shutdownTimeout * 1000;
  }
}

/**
 * RabbitMQ closes the channel of a consumer that holds a delivery longer than its
 * `consumer_timeout` (30 min by default): the task is redelivered and all the child's other
 * tasks with it. Say so at start rather than let long tasks be cut by surprise.
 */
function warnAboutConsumerTimeout(spec: ChildSpec, log: Logger): void {
  const { name, timeout } = spec.group;
  const limit = BROKER_CONSUMER_TIMEOUT_S;
  if (timeout === undefined) {
    log.warn(
      { group: name, brokerConsumerTimeoutS: limit },
      `group ${name} has no timeout: a task running longer than the broker's consumer_timeout (${limit} s by default) loses its channel and is redelivered; set timeout, or raise consumer_timeout in rabbitmq.conf`,
    );
  } else if (timeout > limit) {
    log.warn(
      { group: name, timeoutS: timeout, brokerConsumerTimeoutS: limit },
      `group ${name} has timeout ${timeout} s, longer than the broker's default consumer_timeout (${limit} s): raise consumer_timeout in rabbitmq.conf or its tasks are redelivered after ${limit} s`,
    );
  }
}
