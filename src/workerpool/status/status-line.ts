import type { StatusLine } from '../../common/status/status-updates.js';
import type { GroupSummary } from '../supervisor/group.js';

/**
 * The pool's STATUS= line, one entry per group by name: `echo 2/2, shell 0/1 FAILED` —
 * children running / wanted, then what keeps the group from serving, if anything: `FAILED`
 * (its plugin fails to start: TQ_ERR_GROUP_FAILED), `PAUSED` (its children were killed from
 * outside: TQ_ERR_GROUP_PAUSED), `restarting` (a restart is due), `stopping`; a group of the
 * config that does not run here (pool.ts RefusedGroup) is `shell REFUSED`.
 */
export function poolStatusLine(groups: GroupSummary[], refused: string[] = []): StatusLine {
  if (groups.length === 0 && refused.length === 0) return { line: 'no groups', key: 'no groups' };
  const entries = groups.map((group) => {
    const word = groupWord(group);
    return { name: group.name, text: `${group.running}/${group.wanted}${word ? ` ${word}` : ''}` };
  });
  for (const name of refused) entries.push({ name, text: 'REFUSED' });
  const line = entries
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((entry) => `${entry.name} ${entry.text}`)
    .join(', ');
  // Every change of a count is a child that started or ended: rare, and worth saying.
  return { line, key: line };
}

function groupWord(group: GroupSummary): string | undefined {
  if (group.state === 'failed')
    return group.failure?.code === 'TQ_ERR_GROUP_PAUSED' ? 'PAUSED' : 'FAILED';
  if (group.state === 'delaying') return 'restarting';
  if (group.state === 'stopping') return 'stopping';
  return undefined;
}
