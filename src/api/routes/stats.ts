import type { FastifyInstance } from 'fastify';
import { TqError } from '../../common/errors.js';
import { THROUGHPUT_STATES } from '../store/throughput.js';
import type { TaskStore } from '../store/types.js';
import { isoTime } from './list-query.js';
import { errorResponses } from './operate-schemas.js';

/** Seconds a bucket may span. */
export const STEPS = [60, 300, 3600] as const;
/** The most buckets one answer holds (a day of minutes). */
export const MAX_BUCKETS = 1440;
const HOUR_MS = 3_600_000;

const THROUGHPUT_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', description: 'ISO time; default one hour ago' },
    step: { type: 'string', enum: STEPS.map(String), description: 'seconds a bucket; default 60' },
  },
} as const;

const BUCKET = {
  type: 'object',
  required: ['at', ...THROUGHPUT_STATES],
  properties: {
    at: { type: 'string' },
    ...Object.fromEntries(THROUGHPUT_STATES.map((s) => [s, { type: 'integer' }])),
  },
} as const;

const THROUGHPUT_RESPONSE = {
  type: 'object',
  required: ['step', 'since', 'until', 'buckets'],
  properties: {
    step: { type: 'integer' },
    since: { type: 'string' },
    until: { type: 'string' },
    buckets: { type: 'array', items: BUCKET },
  },
} as const;

/**
 * The buckets an answer spans: from the one holding `since` up to and including the one holding
 * `now`, aligned to multiples of `step` seconds since the epoch; `until` is the end of the last.
 *
 * @throws TqError TQ_ERR_API_INVALID_REQUEST for more than MAX_BUCKETS, or a `since` to come
 */
export function throughputSpan(
  since: string | undefined,
  step: number,
  now: number,
): { since: string; until: string } {
  const stepMs = step * 1000;
  const from = since === undefined ? now - HOUR_MS : Date.parse(isoTime('since', since));
  const first = Math.floor(from / stepMs) * stepMs;
  const end = (Math.floor(now / stepMs) + 1) * stepMs;
  if (first >= end) {
    throw new TqError('TQ_ERR_API_INVALID_REQUEST', 'querystring/since is after now');
  }
  if ((end - first) / stepMs > MAX_BUCKETS) {
    throw new TqError(
      'TQ_ERR_API_INVALID_REQUEST',
      `querystring/since: at most ${MAX_BUCKETS} buckets of ${step} s (a larger step, or a later since)`,
    );
  }
  return { since: new Date(first).toISOString(), until: new Date(end).toISOString() };
}

/**
 * GET /v1/stats/throughput (role read): finished tasks a bucket, by final state, counted on
 * `finishedAt` in the store (so the history survives a restart of the API).
 */
export function registerStats(app: FastifyInstance, store: TaskStore): void {
  app.get(
    '/v1/stats/throughput',
    {
      config: { role: 'read' },
      schema: {
        summary: 'Finished tasks a time bucket, by final state (from the store)',
        querystring: THROUGHPUT_QUERY,
        response: { 200: THROUGHPUT_RESPONSE, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const query = request.query as { since?: string; step?: string };
      const step = query.step === undefined ? 60 : Number(query.step);
      const span = throughputSpan(query.since, step, Date.now());
      const buckets = await store.throughput(span.since, span.until, step);
      return { step, ...span, buckets };
    },
  );
}
