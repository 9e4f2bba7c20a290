/**
 * What an anchor needs from the machine, checked before the first round: a system that was asked
 * for and cannot run stops the bench with what to install, never a table without it.
 */
import type { SystemKind } from '../system-kinds.js';
import { bullmqMissing } from './bullmq.js';
import { celeryMissing } from './celery.js';
import { redisMissing } from './redis-server.js';

export function missingFor(systems: readonly SystemKind[]): string[] {
  const missing: (string | undefined)[] = [];
  if (systems.includes('celery')) missing.push(celeryMissing());
  if (systems.includes('bullmq-everysec') || systems.includes('bullmq-always'))
    missing.push(bullmqMissing(), redisMissing());
  return missing.filter((m): m is string => m !== undefined);
}
