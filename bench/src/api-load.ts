/**
 * The load of the `-api` variants: tasks submitted to `taskqueue-api` over HTTP by `clients`
 * concurrent clients (each one request at a time, on a keep-alive connection of Node's fetch),
 * then the store polled until no task is left in a non-final state.
 *
 * Two figures: submits/s (a 201 means the task was recorded and its publish confirmed) and
 * end-to-end tasks/s (first submit to the store saying every task is final: dispatched, run,
 * its final event applied by the tracker).
 */
import { TYPE } from './workitem.js';

export interface ApiLoadSpec {
  base: string;
  token: string;
  run: string;
  count: number;
  clients: number;
  payloadBytes: number;
  deadlineMs: number;
}

export interface ApiLoadResult {
  count: number;
  /** First submit to the last 201. */
  submitMs: number;
  submitsPerSec: number;
  /** First submit to the store's last non-final task gone. */
  elapsedMs: number;
  tasksPerSec: number;
  /** Each POST's round trip, sorted. */
  submitLatenciesMs: Float64Array;
}

/** The states a task leaves; a page of them empty means every task is final. */
const OPEN_STATES = 'submitted,queued,dispatched,running,retrying';
const POLL_MS = 100;

export async function runApiLoad(spec: ApiLoadSpec): Promise<ApiLoadResult> {
  // Node's fetch keeps connections alive and opens one per request in flight: one per client.
  const headers = {
    authorization: `Bearer ${spec.token}`,
    'content-type': 'application/json',
  };
  const padding = 'x'.repeat(Math.max(0, spec.payloadBytes - 120));
  const latencies = new Float64Array(spec.count);
  const deadline = performance.now() + spec.deadlineMs;
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    while (next < spec.count) {
      const seq = next++;
      const body = JSON.stringify({ type: TYPE, fields: { run: spec.run, padding, seq } });
      const sent = performance.now();
      const response = await fetch(`${spec.base}/v1/tasks`, {
        method: 'POST',
        headers,
        body,
      });
      const text = await response.text();
      if (response.status !== 201)
        throw new Error(`submit ${seq}: HTTP ${response.status} ${text.slice(0, 200)}`);
      latencies[seq] = performance.now() - sent;
      if (performance.now() > deadline)
        throw new Error(`submits longer than ${spec.deadlineMs} ms`);
    }
  };
  await Promise.all(Array.from({ length: spec.clients }, client));
  const submitMs = performance.now() - t0;
  for (;;) {
    const response = await fetch(`${spec.base}/v1/tasks?state=${OPEN_STATES}&limit=1`, {
      headers: { authorization: headers.authorization },
    });
    const page = (await response.json()) as { tasks?: unknown[] };
    if (response.status !== 200) throw new Error(`list: HTTP ${response.status}`);
    if (page.tasks?.length === 0) break;
    if (performance.now() > deadline)
      throw new Error(`tasks not final after ${spec.deadlineMs} ms (all ${spec.count} submitted)`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const elapsedMs = performance.now() - t0;
  return {
    count: spec.count,
    submitMs,
    submitsPerSec: (spec.count * 1000) / submitMs,
    elapsedMs,
    tasksPerSec: (spec.count * 1000) / elapsedMs,
    submitLatenciesMs: latencies.sort(),
  };
}
