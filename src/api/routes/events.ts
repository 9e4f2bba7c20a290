import type { FastifyInstance } from 'fastify';
import type { StateChange, StateChanges } from '../state-changes.js';
import { EVENTS_QUERY } from './schemas.js';

/** A comment line now and then, so that proxies and clients see a live stream. */
const KEEPALIVE_MS = 15_000;

/** One server-sent event (text/event-stream): `event: state`, the change as JSON. */
export function formatEvent(change: StateChange): string {
  return `event: state\ndata: ${JSON.stringify(change)}\n\n`;
}

/**
 * GET /v1/events: a server-sent event stream of state changes, optionally of one task
 * (`?id=`) or one type (`?type=`): what this daemon reports (StateChanges: its submits, and what
 * its tracker applied); no replay from `Last-Event-ID` yet.
 */
export function registerEvents(app: FastifyInstance, changes: StateChanges): void {
  const open = new Set<() => void>();
  // Before the server closes: an open stream would hold its close forever.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  app.get(
    '/v1/events',
    {
      config: { role: 'read' },
      schema: {
        summary: 'A server-sent event stream of state changes (event: state)',
        querystring: EVENTS_QUERY,
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      const { id, type } = request.query as { id?: string; type?: string };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': taskqueue-api state changes\n\n');
      const unsubscribe = changes.subscribe((change) => {
        if (id !== undefined && change.taskId !== id) return;
        if (type !== undefined && !change.types.includes(type)) return;
        res.write(formatEvent(change));
      });
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      const end = () => {
        clearInterval(keepalive);
        unsubscribe();
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      res.once('close', end);
    },
  );
}
