import { hostname } from 'node:os';
import { backoffDelay } from '../../common/amqp/backoff.js';
import type { Logger } from '../../common/logger.js';
import { ChildHandle } from '../child-handle.js';
import type { ChildMessage, ChildSpec, Verdict } from '../ipc.js';
import type { StatsMessage } from '../task-stats.js';
import { TIMEOUT_GRACE_MS, WATCHDOG_MARGIN_MS } from '../timeouts.js';
import { type Clock, type ClockTimer, realClock } from './clock.js';
import { RestartIntensity } from './intensity.js';
import { TaskLedger } from './ledger.js';
import { GroupPause } from './pause.js';
import { type RestartCause, restartCause } from './restart-cause.js';
import {
  CHILD_INITIAL,
  type ChildEvent,
  type ChildState,
  exitMeaning,
  GROUP_INITIAL,
  type GroupEvent,
  type GroupState,
  groupTransition,
  isActive,
  transition,
} from './states.js';
import type { ChildBreach, ChildExit, MakeChild, SupervisedChild } from './supervised-child.js';

/** The supervision limits of a group; the defaults suit a production pool. */
export interface GroupPolicy {
  /** At most this many unplanned restarts … */
  maxRestarts: number;
  /** … within this period, else the group is marked failed. */
  restartPeriodMs: number;
  /**
   * How long a group rests the first time its intensity trips before it is tried again; doubled
   * on each trip after it, up to `failedPauseMaxMs`, until the group ran healthy (all its
   * children running) for `healthyResetMs`.
   */
  failedPauseMs: number;
  failedPauseMaxMs: number;
  healthyResetMs: number;
  /** Delay before the first restart; it doubles with each recent restart, jittered. */
  restartBaseMs: number;
  restartMaxMs: number;
}

export const DEFAULT_POLICY: GroupPolicy = {
  maxRestarts: 5,
  restartPeriodMs: 60_000,
  failedPauseMs: 5_000,
  failedPauseMaxMs: 300_000,
  healthyResetMs: 60_000,
  restartBaseMs: 500,
  restartMaxMs: 30_000,
};

const HOST = hostname();

/** How often the held-tasks files are checked and the watchdog looks for overdue tasks. */
const WATCHDOG_INTERVAL_MS = 1000;

/** What a group is built with besides its spec; each has a default for the real pool. */
export interface GroupOptions {
  policy?: GroupPolicy;
  /** Shared by every group of a pool (pool.ts). */
  ledger?: TaskLedger;
  /** Creates a child, not started: a ChildHandle (a real process) unless a test says otherwise. */
  makeChild?: MakeChild;
  clock?: Clock;
  /** A child's `stats` message, checked (pool metrics: stats-totals.ts). */
  onStats?: (stats: StatsMessage) => void;
  /** A child ended unasked and is replaced (now, after a delay or after the group's pause). */
  onRestart?: (cause: RestartCause) => void;
}

/** A child of the group as `taskqueue plugins`, tests and logs see it. */
export interface ChildView {
  pid: number | undefined;
  state: ChildState;
}

/** Why a child ended unasked (restart-cause.ts): one set for `taskqueue status` and the metrics. */
export type { RestartCause };

/** Why a failed group is paused and until when (ms since the epoch). */
export interface GroupFailure {
  code: 'TQ_ERR_GROUP_FAILED' | 'TQ_ERR_GROUP_PAUSED';
  message: string;
  at: number;
  retryAt: number;
}

/** What a group is now, without reading its children's files: systemd's STATUS= line. */
export interface GroupSummary {
  name: string;
  wanted: number;
  /** Children `running` (ready and consuming). */
  running: number;
  state: GroupState;
  failure: GroupFailure | undefined;
}

/** A child as `taskqueue status` sees it (status/snapshot.ts turns it into the answer). */
export interface ChildFacts {
  pid: number | undefined;
  state: ChildState;
  /** Its place among the group's children: a replacement takes the place of the one it replaces. */
  slot: number;
  /** When the pool started it (ms since the epoch). */
  startedAt: number;
  /** Unasked ends of the children that held its slot before it. */
  restarts: number;
  /** Its held-tasks file: the tasks in hand (key → since) and how many it settled. */
  held: Map<string, number>;
  /** The tasks in hand not started yet (`concurrency`): key → since they came. */
  waiting: ReadonlyMap<string, number>;
  settled: number;
}

/** A group as `taskqueue status` sees it. */
export interface GroupFacts extends GroupSummary {
  type: string;
  instance: string | undefined;
  /** Its children's user, or undefined: the pool's own. */
  user: string | undefined;
  /** While `delaying`: when the next restart is due. */
  restartAt: number | undefined;
  restarts: { total: number; byCause: Partial<Record<RestartCause, number>> };
  children: ChildFacts[];
}

/**
 * Supervises the children of one group: keeps `wanted` of them active, replaces the ones that
 * exit with a jittered, growing delay, pauses after too many restarts (`failedPauseMs`, doubled
 * on each trip in a row up to `failedPauseMaxMs`: pause.ts), recycles children (successor first)
 * when they ask for it, and kills a child that breaks the protocol (SupervisedChild `broken`).
 *
 * Wanted vs actual, as runit: `#wanted` is the number asked for, `#children` with their states
 * (states.ts) are what there is, and `#reconcile` acts on the difference, only while the group
 * is `serving`. The group's own state (states.ts `GroupState`) says why it would not: a restart
 * delay (`delaying`, `#restartTimer`), a pause (`failed`, `#pauseTimer`), or `stopping`.
 * Children come from `makeChild` and time from `clock`, so tests run it with neither processes
 * nor waits (test/unit/workerpool/group-supervisor.test.ts).
 *
 * Only a child that dies before it finished a single task counts towards the restart intensity
 * (the plugin cannot get going: that is what must not spin), and only while the group makes no
 * progress: a task finished by any child of the group clears the count, so children killed one
 * after another (an operator, the OOM killer) while the others work never fail the group. One
 * that has done work and dies is replaced after a short delay: the task it held counts as a
 * crash of that task instead, and max_crashes stops a poison task, not the group.
 */
export class GroupSupervisor {
  readonly name: string;
  #spec: ChildSpec;
  #wanted: number;
  #log: Logger;
  #policy: GroupPolicy;
  #children = new Map<SupervisedChild, ChildState>();
  /**
   * Tasks the group's children settled, as last counted (their held-tasks files, and those of
   * the children gone): progress since the last count clears the restart intensity.
   */
  #settledCounted = 0;
  #settledByGone = 0;
  /** Tasks of a child the watchdog killed for running past their timeout. */
  #overdue = new Map<SupervisedChild, Set<string>>();
  #ledger: TaskLedger;
  #makeChild: MakeChild;
  #clock: Clock;
  #watchdog: ClockTimer | undefined;
  #intensity: RestartIntensity;
  #pause: GroupPause;
  /** The group's own state (states.ts); changed only by `#enter`. */
  #state: GroupState = GROUP_INITIAL;
  /** While `delaying`: fires the delayed restart. */
  #restartTimer: ClockTimer | undefined;
  /** While `failed`: ends the pause and tries the group again. */
  #pauseTimer: ClockTimer | undefined;
  #drainMs: number;
  #onStats: GroupOptions['onStats'];
  #onRestart: GroupOptions['onRestart'];
  /** Per child: when it started and its slot (`taskqueue status`). */
  #placed = new Map<SupervisedChild, { startedAt: number; slot: number }>();
  /** Unasked ends per slot, and per cause for the whole group. */
  #slotRestarts: number[] = [];
  #restarts: { total: number; byCause: Partial<Record<RestartCause, number>> } = {
    total: 0,
    byCause: {},
  };
  /** While `failed`: why, and until when. */
  #failure: GroupFailure | undefined;
  /** While `delaying`: when the restart is due. */
  #restartAt: number | undefined;
  #settle!: () => void;
  /**
   * Resolves the first time the group has all its wanted children running, or has failed: the
   * pool counts as ready (systemd's READY=1) once every group settled either way.
   */
  readonly settled = new Promise<void>((resolve) => {
    this.#settle = resolve;
  });

  constructor(spec: ChildSpec, drainMs: number, log: Logger, options: GroupOptions = {}) {
    const {
      policy = DEFAULT_POLICY,
      ledger = new TaskLedger(),
      makeChild = (childSpec) => new ChildHandle(childSpec),
      clock = realClock,
    } = options;
    this.name = spec.group.name;
    this.#ledger = ledger;
    this.#makeChild = makeChild;
    this.#clock = clock;
    this.#spec = spec;
    this.#wanted = spec.group.workers;
    this.#drainMs = drainMs;
    this.#log = log.child({ group: this.name });
    this.#policy = policy;
    this.#onStats = options.onStats;
    this.#onRestart = options.onRestart;
    this.#intensity = new RestartIntensity(policy.maxRestarts, policy.restartPeriodMs);
    this.#pause = new GroupPause(
      policy.failedPauseMs,
      policy.failedPauseMaxMs,
      policy.healthyResetMs,
    );
  }

  get spec(): ChildSpec {
    return this.#spec;
  }

  get failed(): boolean {
    return this.#state === 'failed';
  }

  /** The number of children asked for. */
  get wanted(): number {
    return this.#wanted;
  }

  get state(): GroupState {
    return this.#state;
  }

  children(): ChildView[] {
    return [...this.#children].map(([child, state]) => ({ pid: child.pid, state }));
  }

  /** The group's state and counts, from memory alone (cheap enough for every second). */
  summary(): GroupSummary {
    const running = [...this.#children.values()].filter((state) => state === 'running').length;
    return {
      name: this.name,
      wanted: this.#wanted,
      running,
      state: this.#state,
      failure: this.#failure,
    };
  }

  /** All `taskqueue status` shows of the group; reads each child's held-tasks file once. */
  snapshot(): GroupFacts {
    const { group, identity } = this.#spec;
    const children: ChildFacts[] = [];
    for (const [child, state] of this.#children) {
      const placed = this.#placed.get(child);
      const { held, waiting, settled } = child.heldTasks();
      const slot = placed?.slot ?? -1;
      children.push({
        pid: child.pid,
        state,
        slot,
        startedAt: placed?.startedAt ?? this.#clock.now(),
        restarts: this.#slotRestarts[slot] ?? 0,
        held,
        waiting,
        settled,
      });
    }
    return {
      ...this.summary(),
      type: group.type,
      instance: group.instance,
      user: identity?.user,
      restartAt: this.#restartAt,
      restarts: { total: this.#restarts.total, byCause: { ...this.#restarts.byCause } },
      children,
    };
  }

  start(): void {
    if (!this.#enter('start')) return;
    if (this.#wanted === 0) this.#settle();
    // Every second: one fstat per child (a held-tasks file grown past its slots breaks its
    // child), and with a timeout the watchdog's read of each child's file.
    const { timeout } = this.#spec.group;
    this.#watchdog = this.#clock.setInterval(() => {
      for (const child of this.#children.keys()) child.checkHeldTasks();
      if (timeout !== undefined) this.#killOverdue(timeout);
    }, WATCHDOG_INTERVAL_MS);
    this.#reconcile('start');
  }

  /** A new number of children (a reload that changed only `workers`). */
  setWanted(wanted: number): void {
    this.#wanted = wanted;
    this.#reconcile('reload');
  }

  /**
   * Ends a failed group's pause now (a reload: the operator's "try again now"): the restart
   * intensity starts empty, the pause's doubling is kept. False when the group is not failed.
   */
  retryNow(): boolean {
    if (!this.#enter('retry')) return false;
    this.#intensity.reset();
    this.#reconcile('retry on reload');
    return true;
  }

  /** Drains every child within `deadlineMs`, killing stragglers; idempotent. */
  async stop(deadlineMs = this.#drainMs): Promise<void> {
    this.#enter('stop');
    this.#settle();
    this.#clock.clear(this.#watchdog);
    const exits: Promise<void>[] = [];
    for (const child of this.#children.keys()) {
      this.#apply(child, 'stop', 'pool stopping');
      exits.push(child.stop(deadlineMs));
    }
    await Promise.all(exits);
  }

  /** Starts or stops children to match the wanted number; only while `serving`. */
  #reconcile(cause: string): void {
    if (this.#state !== 'serving') return;
    const active = [...this.#children]
      .filter(([, state]) => isActive(state))
      .map(([child]) => child);
    for (let n = active.length; n < this.#wanted; n++) this.#spawn(cause);
    // Too many (fewer workers after a reload): stop the newest first.
    for (const child of active.slice(this.#wanted).reverse()) {
      this.#apply(child, 'stop', 'fewer workers wanted');
      void child.stop(this.#drainMs);
    }
  }

  #spawn(cause: string): void {
    const child = this.#makeChild(this.#spec);
    this.#children.set(child, CHILD_INITIAL);
    this.#placed.set(child, { startedAt: this.#clock.now(), slot: this.#freeSlot() });
    this.#ledger.attach(child);
    child.on('ready', () => this.#onReady(child));
    child.on('message', (message: ChildMessage) => this.#onMessage(child, message));
    child.on('broken', (breach: ChildBreach) => {
      this.#log.error(
        { childPid: child.pid, code: breach.code, reason: breach.reason },
        `child ${child.pid} broke the protocol with the pool (${breach.reason}); killing it`,
      );
    });
    child.on('exit', (status: ChildExit) => this.#onExit(child, status));
    child.start();
    this.#apply(child, 'start', cause);
  }

  #onReady(child: SupervisedChild): void {
    this.#apply(child, 'ready', 'handshake');
    const running = [...this.#children.values()].filter((state) => state === 'running').length;
    if (running >= this.#wanted) {
      this.#settle();
      this.#pause.healthy(this.#clock.now());
    }
    // A ready successor lets one retiring child go.
    const retiring = [...this.#children].find(([, state]) => state === 'retiring');
    if (retiring) {
      this.#apply(retiring[0], 'stop', 'successor ready');
      void retiring[0].stop(this.#drainMs);
    }
  }

  #onMessage(child: SupervisedChild, message: ChildMessage): void {
    if (message.kind === 'lost') {
      for (const key of message.keys)
        this.#ledger.record(
          key,
          message.code === undefined
            ? { kind: 'lost', cause: message.cause }
            : { kind: 'lost', cause: message.cause, code: message.code },
        );
    } else if (message.kind === 'ask') {
      void this.#ledger
        .ask(child, message.key)
        .then((verdict) => child.answer(message.id, verdict));
    } else if (message.kind === 'recycle') {
      this.#apply(child, 'recycle', message.reason);
      this.#reconcile('successor');
    } else if (message.kind === 'stats') {
      this.#onStats?.(message);
    } else if (message.kind === 'fatal') {
      this.#log.error(
        { childPid: child.pid, code: message.code },
        `child failed to start: ${message.message}`,
      );
    }
  }

  #onExit(child: SupervisedChild, status: ChildExit): void {
    const before = this.#children.get(child) ?? 'stopping';
    const fromOutside =
      (status.signal === 'SIGKILL' || status.signal === 'SIGTERM') &&
      status.killedByPool === undefined;
    const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
    this.#apply(child, 'exit', how);
    this.#children.delete(child);
    const meaning = exitMeaning(before, fromOutside);
    const overdue = this.#overdue.get(child);
    if (meaning !== 'planned') {
      this.#countRestart(child, restartCause(meaning, status, fromOutside, overdue !== undefined));
    }
    this.#placed.delete(child);
    if (meaning !== 'planned' && this.#pause.unhealthy(this.#clock.now()))
      this.#log.info('group ran healthy: the next pause starts short again');
    const completed = child.heldTasks().settled;
    this.#countProgress(child);
    this.#overdue.delete(child);
    this.#ledger.holderGone(
      child,
      (key): Verdict => {
        const who = `pid ${child.pid} on ${HOST}`;
        if (overdue?.has(key))
          return {
            kind: 'timeout',
            cause: `task timed out after ${this.#spec.group.timeout} s (its child, ${who}, was stuck and killed)`,
          };
        if (meaning === 'planned') return { kind: 'lost', cause: `its child (${who}) was stopped` };
        return { kind: 'crash', cause: `child ${who} ended with ${how}` };
      },
      {
        kind: 'lost',
        cause: `it waited for its turn in child pid ${child.pid} on ${HOST}, which ended with ${how}`,
      },
    );
    // Failed already: the pause's timer brings the group back, no restart before.
    if (this.#state === 'stopping' || this.#state === 'failed') return;
    if (meaning === 'planned') {
      this.#reconcile('replace');
      return;
    }
    this.#onRestart?.(restartCause(meaning, status, fromOutside, overdue !== undefined));
    if (meaning === 'crash' && (completed > 0 || overdue)) {
      // It worked before: replace it, without counting towards giving up on the group.
      const delay = backoffDelay(0, {
        baseMs: this.#policy.restartBaseMs,
        maxMs: this.#policy.restartMaxMs,
      });
      this.#log.warn(
        { childPid: child.pid, meaning, completed, restartInMs: delay },
        'child died after doing work; replacing it',
      );
      this.#scheduleReconcile(delay, 'replace a child that died');
      return;
    }
    if (!this.#intensity.record(this.#clock.now(), fromOutside)) {
      this.#markFailed();
      return;
    }
    const delay = backoffDelay(this.#intensity.recent(this.#clock.now()) - 1, {
      baseMs: this.#policy.restartBaseMs,
      maxMs: this.#policy.restartMaxMs,
    });
    this.#log.warn(
      {
        code: 'TQ_ERR_CHILD_EXITED',
        childPid: child.pid,
        meaning,
        killedByPool: status.killedByPool,
        restartInMs: delay,
        recentRestarts: this.#intensity.recent(this.#clock.now()),
      },
      'child will be restarted',
    );
    this.#scheduleReconcile(delay, `restart after ${meaning}`);
  }

  #countRestart(child: SupervisedChild, cause: RestartCause): void {
    this.#restarts.total++;
    this.#restarts.byCause[cause] = (this.#restarts.byCause[cause] ?? 0) + 1;
    const slot = this.#placed.get(child)?.slot;
    if (slot !== undefined) this.#slotRestarts[slot] = (this.#slotRestarts[slot] ?? 0) + 1;
  }

  /** The lowest slot no active child holds: a replacement takes its predecessor's place. */
  #freeSlot(): number {
    const taken = new Set<number>();
    for (const [child, state] of this.#children)
      if (isActive(state)) {
        const slot = this.#placed.get(child)?.slot;
        if (slot !== undefined) taken.add(slot);
      }
    let slot = 0;
    while (taken.has(slot)) slot++;
    return slot;
  }

  /**
   * Clears the restart intensity when any child of the group settled a task since the last
   * count: children killed one after another while the group makes progress are not a group
   * that fails to start. Counted when a child ends, the one moment the intensity is consulted.
   */
  #countProgress(gone: SupervisedChild): void {
    const goneSettled = gone.heldTasks().settled;
    let total = this.#settledByGone + goneSettled;
    for (const child of this.#children.keys())
      if (child !== gone) total += child.heldTasks().settled;
    this.#settledByGone += goneSettled;
    if (total > this.#settledCounted) this.#intensity.reset();
    this.#settledCounted = total;
  }

  /**
   * One pending restart at a time: `delaying` until it fires; a later request (while delaying
   * already, or failed) waits for it.
   */
  #scheduleReconcile(delay: number, cause: string): void {
    if (!this.#enter('delay')) return;
    this.#restartAt = this.#clock.now() + delay;
    this.#restartTimer = this.#clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#enter('delay-over')) this.#reconcile(cause);
    }, delay);
  }

  /**
   * The backstop for a child that cannot even notice its task's timeout (a plugin spinning in a
   * loop blocks the child's event loop): past timeout + grace + margin it is killed, and its
   * overdue tasks count as failed attempts, not crashes.
   */
  #killOverdue(timeoutS: number): void {
    const limit = timeoutS * 1000 + TIMEOUT_GRACE_MS + WATCHDOG_MARGIN_MS;
    const now = this.#clock.now();
    for (const child of this.#children.keys()) {
      if (this.#overdue.has(child)) continue;
      const late = [...this.#ledger.heldBy(child)].filter(([, since]) => now - since > limit);
      if (late.length === 0) continue;
      this.#overdue.set(child, new Set(late.map(([key]) => key)));
      this.#log.error(
        { childPid: child.pid, tasks: late.length, timeoutS },
        'child stuck past its task timeout; killing it',
      );
      child.kill('stuck past its task timeout');
    }
  }

  /**
   * Too many restarts: no more for a pause that grows with each trip in a row (pause.ts). A
   * plugin that fails to start is GROUP FAILED (error); a group whose children were all killed
   * from outside only pauses (warning). Both say when the group is tried again.
   */
  #markFailed(): void {
    if (!this.#enter('trip')) return;
    this.#settle();
    const now = this.#clock.now();
    const { maxRestarts, restartPeriodMs } = this.#policy;
    const onlyFromOutside = this.#intensity.onlyFromOutside(now);
    const trip = this.#pause.trips + 1;
    const pauseMs = this.#pause.tripped(now);
    const fields = {
      code: (onlyFromOutside
        ? 'TQ_ERR_GROUP_PAUSED'
        : 'TQ_ERR_GROUP_FAILED') as GroupFailure['code'],
      maxRestarts,
      periodS: restartPeriodMs / 1000,
      retryInS: pauseMs / 1000,
      retryAt: new Date(now + pauseMs).toISOString(),
      trip,
      onlyFromOutside,
    };
    const message = onlyFromOutside
      ? `group paused: more than ${maxRestarts} of its children killed from outside in ${restartPeriodMs / 1000} s; retrying in ${pauseMs / 1000} s`
      : `GROUP FAILED: more than ${maxRestarts} restarts in ${restartPeriodMs / 1000} s; no more restarts for ${pauseMs / 1000} s (trip ${trip} in a row)`;
    if (onlyFromOutside) this.#log.warn(fields, message);
    else this.#log.error(fields, message);
    this.#failure = { code: fields.code, message, at: now, retryAt: now + pauseMs };
    this.#pauseTimer = this.#clock.setTimeout(() => {
      this.#pauseTimer = undefined;
      if (!this.#enter('retry')) return;
      this.#intensity.reset();
      this.#log.warn('failed group: trying again');
      this.#reconcile('retry after failure');
    }, pauseMs);
  }

  /**
   * The one place the group changes state (states.ts `groupTransition`); false when `event`
   * means nothing in the current state. Leaving `delaying` or `failed` cancels that state's
   * timer, so no timer outlives the state it belongs to.
   */
  #enter(event: GroupEvent): boolean {
    const from = this.#state;
    const to = groupTransition(from, event);
    if (!to) return false;
    if (from === 'delaying') {
      this.#clock.clear(this.#restartTimer);
      this.#restartTimer = undefined;
      this.#restartAt = undefined;
    }
    if (from === 'failed') {
      this.#clock.clear(this.#pauseTimer);
      this.#pauseTimer = undefined;
      this.#failure = undefined;
    }
    this.#state = to;
    // Named apart from a child's `from`/`to`, which tools match in the log.
    this.#log.debug({ groupFrom: from, groupTo: to, event }, 'group state');
    return true;
  }

  /** The one place a child changes state; each change is one log line. */
  #apply(child: SupervisedChild, event: ChildEvent, cause: string): void {
    const from = this.#children.get(child);
    if (!from) return;
    const to = transition(from, event);
    if (!to) return;
    this.#children.set(child, to);
    this.#log.info({ childPid: child.pid, from, to, cause }, 'child state');
  }
}
