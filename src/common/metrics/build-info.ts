import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/** The version of the install these modules come from (its package.json, beside dist/). */
export function taskqueueVersion(): string {
  try {
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `taskqueue_build_info{version, node} 1`: which build a target runs, for joins and panels. */
export function registerBuildInfo(registry: Registry): void {
  const gauge = new Gauge({
    name: 'taskqueue_build_info',
    help: 'Always 1; the labels say which taskqueue and Node.js versions this daemon runs.',
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  });
  gauge.set({ version: taskqueueVersion(), node: process.versions.node }, 1);
}

/**
 * The event loop lag of prom-client's default metrics is sampled by a timer every this many ms:
 * its default, 10, wakes an idle daemon 100 times a second to watch a figure read every 15 s.
 */
export const EVENT_LOOP_PRECISION_MS = 100;
