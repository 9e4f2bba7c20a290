import type { RefusedGroup } from '../pool.js';
import type { GroupFacts, RestartCause } from '../supervisor/group.js';
import type { ChildState, GroupState } from '../supervisor/states.js';

/**
 * What `taskqueue status` gets from the pool (its status socket; docs/status.md has the shape
 * with an example). Times are ISO 8601 (UTC), durations whole seconds, sizes bytes; a field the
 * pool does not know is null, never absent.
 */
export interface PoolStatus {
  daemon: 'workerpool';
  pid: number;
  /** When the snapshot was taken. */
  at: string;
  startedAt: string;
  uptimeS: number;
  groups: GroupStatus[];
  /**
   * Groups of the config that do not run here: no plugin provides the type
   * (TQ_ERR_PLUGIN_MISSING), its API range does not fit (TQ_ERR_PLUGIN_API), the group lacks a
   * setting or its user (TQ_ERR_GROUP_REFUSED), its user cannot read the code
   * (TQ_ERR_GROUP_UNREADABLE). A reload looks again.
   */
  refused: RefusedGroup[];
  totals: PoolTotals;
}

export interface PoolTotals {
  groups: number;
  /** Groups paused after too many restarts (TQ_ERR_GROUP_FAILED or TQ_ERR_GROUP_PAUSED). */
  failedGroups: number;
  /** Groups of the config that do not run (`refused`). */
  refusedGroups: number;
  wanted: number;
  running: number;
  tasksInHand: number;
  /** Settled by the children alive now. */
  tasksDone: number;
  restarts: number;
  /** RSS of the children alive now (those whose RSS could be read). */
  rssBytes: number;
}

export interface GroupStatus {
  name: string;
  type: string;
  instance: string | null;
  /** The children's user; null: the pool's own (a pool not run as root). */
  user: string | null;
  wanted: number;
  /** Children ready and consuming. */
  running: number;
  state: GroupState;
  /** While failed: why, since when, and when it is tried again (or at once by a reload). */
  failed: {
    code: string;
    message: string;
    since: string;
    retryAt: string;
    retryInS: number;
  } | null;
  /** While delaying: when the next restart is due. */
  restartAt: string | null;
  restarts: { total: number; byCause: Partial<Record<RestartCause, number>> };
  children: ChildStatus[];
}

export interface ChildStatus {
  pid: number | null;
  /** Its place in the group; a replacement takes the place of the child it replaces. */
  slot: number;
  state: ChildState;
  startedAt: string;
  uptimeS: number;
  /** Tasks it settled: results published, failures retried or reported, tasks handed back. */
  tasksDone: number;
  inHand: TaskInHand[];
  /** Resident memory, from /proc; null when it cannot be read (the child just ended). */
  rssBytes: number | null;
  /** Unasked ends of the children that held its slot before it. */
  restarts: number;
}

export interface TaskInHand {
  /** The message id (or correlation id); null for a task that has neither. */
  id: string | null;
  type: string;
  /** When the child took it (started it), or when it came while `waiting`. */
  since: string;
  forS: number;
  /** Held but not started: the plugin runs `concurrency` tasks at once and this one waits. */
  waiting: boolean;
}

/** What a snapshot needs besides the groups; given, so that building it is a pure function. */
export interface SnapshotContext {
  now: number;
  pid: number;
  startedAt: number;
  /** A child's RSS in bytes, or undefined when it cannot be read. */
  rss: (pid: number) => number | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000));

/**
 * A held-tasks key (child/attempts.ts taskKey): `<type>\0<id>`, or `<type>\0#<sha1 of the body>`
 * for a task with neither message id nor correlation id.
 */
export function taskOfKey(key: string): { id: string | null; type: string } {
  const cut = key.indexOf('\0');
  if (cut === -1) return { id: null, type: key };
  const id = key.slice(cut + 1);
  return { id: id.startsWith('#') ? null : id, type: key.slice(0, cut) };
}

/** The pool's answer to a status request, from its groups' facts. */
export function buildPoolStatus(
  facts: GroupFacts[],
  context: SnapshotContext,
  refused: RefusedGroup[] = [],
): PoolStatus {
  const { now } = context;
  const groups = facts
    .map((group): GroupStatus => {
      const children = group.children
        .map((child): ChildStatus => {
          const task = (key: string, since: number, waiting: boolean): TaskInHand => ({
            ...taskOfKey(key),
            since: iso(since),
            forS: seconds(now - since),
            waiting,
          });
          const inHand = [
            ...[...child.held].map(([key, since]) => task(key, since, false)),
            ...[...child.waiting].map(([key, since]) => task(key, since, true)),
          ].sort((a, b) => a.since.localeCompare(b.since));
          const rss = child.pid === undefined ? undefined : context.rss(child.pid);
          return {
            pid: child.pid ?? null,
            slot: child.slot,
            state: child.state,
            startedAt: iso(child.startedAt),
            uptimeS: seconds(now - child.startedAt),
            tasksDone: child.settled,
            inHand,
            rssBytes: rss ?? null,
            restarts: child.restarts,
          };
        })
        .sort((a, b) => a.slot - b.slot || (a.pid ?? 0) - (b.pid ?? 0));
      const { failure } = group;
      return {
        name: group.name,
        type: group.type,
        instance: group.instance ?? null,
        user: group.user ?? null,
        wanted: group.wanted,
        running: group.running,
        state: group.state,
        failed:
          group.state === 'failed' && failure
            ? {
                code: failure.code,
                message: failure.message,
                since: iso(failure.at),
                retryAt: iso(failure.retryAt),
                retryInS: Math.max(0, Math.ceil((failure.retryAt - now) / 1000)),
              }
            : null,
        restartAt: group.restartAt === undefined ? null : iso(group.restartAt),
        restarts: group.restarts,
        children,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const all = groups.flatMap((group) => group.children);
  return {
    daemon: 'workerpool',
    pid: context.pid,
    at: iso(now),
    startedAt: iso(context.startedAt),
    uptimeS: seconds(now - context.startedAt),
    groups,
    refused: [...refused].sort((a, b) => a.name.localeCompare(b.name)),
    totals: {
      groups: groups.length,
      failedGroups: groups.filter((group) => group.failed !== null).length,
      refusedGroups: refused.length,
      wanted: sum(groups.map((group) => group.wanted)),
      running: sum(groups.map((group) => group.running)),
      tasksInHand: sum(all.map((child) => child.inHand.length)),
      tasksDone: sum(all.map((child) => child.tasksDone)),
      restarts: sum(groups.map((group) => group.restarts.total)),
      rssBytes: sum(all.map((child) => child.rssBytes ?? 0)),
    },
  };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
