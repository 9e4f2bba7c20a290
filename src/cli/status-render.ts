import type { DispatcherStatus } from '../dispatcher/status.js';
import type { ChildStatus, GroupStatus, PoolStatus } from '../workerpool/status/snapshot.js';
import type { StatusAnswer } from './status-client.js';

/** `taskqueue status` for people: one block per daemon answer, then the errors. */
export function renderStatus(answers: StatusAnswer[]): string[] {
  const lines: string[] = [];
  for (const answer of answers) {
    if ('error' in answer) {
      lines.push(`${answer.socket}: UNREACHABLE [${answer.error.code}]`, '');
      continue;
    }
    const { status } = answer;
    if (status.daemon === 'workerpool') lines.push(...renderPool(status as unknown as PoolStatus));
    else if (status.daemon === 'dispatcher')
      lines.push(...renderDispatcher(status as unknown as DispatcherStatus));
    else lines.push(`${answer.socket}: a daemon this command does not know (${status.daemon})`);
    lines.push('');
  }
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

export function renderPool(pool: PoolStatus): string[] {
  const { totals } = pool;
  const failed =
    (totals.failedGroups > 0 ? `, ${totals.failedGroups} FAILED` : '') +
    ((totals.refusedGroups ?? 0) > 0 ? `, ${totals.refusedGroups} REFUSED` : '');
  const lines = [
    `workerpool (pid ${pool.pid}, up ${duration(pool.uptimeS)}): ${plural(totals.groups, 'group')}, ` +
      `${totals.running}/${totals.wanted} children running${failed}`,
  ];
  if (pool.groups.length > 0)
    lines.push(
      ...table(
        ['GROUP', 'USER', 'CHILDREN', 'STATE', 'RESTARTS'],
        pool.groups.map((group) => [
          group.name,
          group.user ?? '(pool)',
          `${group.running}/${group.wanted}`,
          groupState(group),
          restarts(group),
        ]),
      ),
    );
  for (const group of pool.groups) {
    if (group.failed) {
      lines.push(
        `  ${group.name}: ${group.failed.code}: ${group.failed.message}`,
        `  ${group.name}: retried at ${clock(group.failed.retryAt)} (in ${duration(group.failed.retryInS)}), or now by a reload`,
      );
    }
  }
  // A group of the config that does not run here: what the pool logged when it refused it.
  for (const group of pool.refused ?? [])
    lines.push(`  ${group.name}: REFUSED: ${group.code}: ${group.reason}`);
  const children = pool.groups.flatMap((group) =>
    group.children.map((child) => ({ group, child })),
  );
  if (children.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['GROUP', 'SLOT', 'PID', 'STATE', 'UP', 'DONE', 'RSS', 'RESTARTS', 'IN HAND'],
        children.map(({ group, child }) => [
          group.name,
          String(child.slot),
          child.pid === null ? '-' : String(child.pid),
          child.state,
          duration(child.uptimeS),
          String(child.tasksDone),
          child.rssBytes === null ? '-' : bytes(child.rssBytes),
          String(child.restarts),
          inHand(child),
        ]),
      ),
    );
  }
  lines.push(
    `total: ${totals.running}/${totals.wanted} children, ${plural(totals.tasksInHand, 'task')} in hand, ` +
      `${totals.tasksDone} done, ${bytes(totals.rssBytes)} RSS, ${plural(totals.restarts, 'restart')}`,
  );
  return lines;
}

export function renderDispatcher(dispatcher: DispatcherStatus): string[] {
  const { tasks } = dispatcher;
  return [
    `dispatcher (pid ${dispatcher.pid}, up ${duration(dispatcher.uptimeS)}): ${dispatcher.state} ${dispatcher.queue}; ` +
      `${tasks.received} received, ${tasks.forwarded} forwarded, ${tasks.parked} parked; ` +
      `${plural(dispatcher.declaredTypes, 'worker queue')}; ` +
      `${bytes(dispatcher.bytesInHand)} of ${bytes(dispatcher.maxBytesInFlight)} in hand`,
  ];
}

function groupState(group: GroupStatus): string {
  if (group.failed) return group.failed.code === 'TQ_ERR_GROUP_PAUSED' ? 'PAUSED' : 'FAILED';
  return group.state;
}

function restarts(group: GroupStatus): string {
  const causes = Object.entries(group.restarts.byCause)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([cause, n]) => `${cause} ${n}`);
  return causes.length === 0
    ? String(group.restarts.total)
    : `${group.restarts.total} (${causes.join(', ')})`;
}

function inHand(child: ChildStatus): string {
  if (child.inHand.length === 0) return '-';
  return child.inHand
    .map(
      (task) =>
        `${task.id ?? '(no id)'} (${task.type}, ${task.waiting ? 'waiting ' : ''}${duration(task.forS)})`,
    )
    .join(', ');
}

/** Columns padded to their widest cell, two spaces apart, indented by two. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

/** 59s, 4m05s, 2h03m, 3d04h. */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** 512 B, 45.1 MiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** An ISO time as the clock shows it, UTC: 2026-12-06 20:31:02Z. */
function clock(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const pad = (n: number) => String(n).padStart(2, '0');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
