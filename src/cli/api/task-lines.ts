import type { TaskRecord } from '../../api/store/types.js';

/** A task as `taskqueue task ID` prints it: its facts, attempts, responses, then its result. */
export function taskLines(task: TaskRecord): string[] {
  const lines = [
    `task ${task.id}`,
    `  state     ${task.state}`,
    `  type      ${task.types.length > 1 ? task.types.join(', ') : task.type}`,
    `  source    ${task.source}`,
    `  created   ${task.createdAt}`,
    `  updated   ${task.updatedAt}`,
  ];
  if (task.finishedAt) lines.push(`  finished  ${task.finishedAt}`);
  if (task.nextAttemptAt) lines.push(`  next try  ${task.nextAttemptAt}`);
  if (task.notBefore) {
    const waits = task.state === 'delayed' ? 'waits until' : 'not before';
    lines.push(`  ${waits.padEnd(9)} ${task.notBefore}`);
  }
  if (task.expiresAt) lines.push(`  deadline  ${task.expiresAt}`);
  if (task.idempotencyKey) lines.push(`  key       ${task.idempotencyKey}`);
  for (const attempt of task.attempts) {
    const where = [
      attempt.host,
      attempt.pid === undefined ? undefined : `pid ${attempt.pid}`,
      attempt.user,
    ]
      .filter((part) => part !== undefined)
      .join(' ');
    const span = `${attempt.startedAt ?? '?'} → ${attempt.endedAt ?? '…'}`;
    lines.push(`  attempt ${attempt.attempt}: ${span}${where ? ` on ${where}` : ''}`);
    if (attempt.error) {
      lines.push(
        `    error: ${attempt.error}${attempt.errorCode ? ` [${attempt.errorCode}]` : ''}`,
      );
    }
    for (const line of attempt.crashLog ?? []) lines.push(`    crash: ${line}`);
  }
  if (task.responses.length > 1) {
    for (const response of task.responses) {
      lines.push(`  response ${response.type}: ${response.state}`);
    }
  }
  if (task.result !== undefined) {
    const cut = task.resultTruncated ? ` (cut at ${task.resultCap ?? '?'} bytes)` : '';
    lines.push(`  result${cut}:`);
    for (const line of JSON.stringify(task.result, null, 2).split('\n')) lines.push(`    ${line}`);
  }
  return lines;
}

const LIST_COLUMNS = ['ID', 'STATE', 'TYPE', 'CREATED', 'FINISHED'] as const;

/**
 * `taskqueue tasks`: one aligned line a task, newest first, and how to get the next page. When a
 * task listed is delayed, a DUE column says when each delayed one may start.
 */
export function taskListLines(tasks: TaskRecord[], next: string | undefined): string[] {
  const due = tasks.some((task) => task.state === 'delayed');
  const COLUMNS = due ? [...LIST_COLUMNS, 'DUE'] : LIST_COLUMNS;
  const rows = tasks.map((task) => [
    task.id,
    task.state,
    task.types.join(','),
    task.createdAt,
    task.finishedAt ?? '-',
    ...(due ? [task.state === 'delayed' ? (task.notBefore ?? '?') : '-'] : []),
  ]);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i]!.length)),
  );
  const format = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = tasks.length === 0 ? ['no tasks'] : [format(COLUMNS), ...rows.map(format)];
  if (next !== undefined) lines.push(`more: --cursor ${next}`);
  return lines;
}
