/** What the chaos suite sends: numbered messages whose number survives every hop. */
import type { MessageProperties, Options } from 'amqplib';

/** One message to publish to the input queue. `n` is its task number (0 … count-1). */
export interface Outgoing {
  n: number;
  body: Buffer;
  options: Options.Publish;
  /** The queue it is published to, when not the publisher's (e.g. straight to a worker queue). */
  queue?: string;
}

/**
 * The id that carries a task's number: in `correlation_id` when the message has one, else in
 * `message_id`. Results get the input's correlation_id or else its message_id (SPEC §1), and the
 * dispatcher passes both on unchanged (to the worker queue and to `taskqueue.invalid`).
 */
export const taskId = (n: number): string => `chaos-${n}`;

/** The task number a message (input, result or invalid) carries, or undefined. */
export function taskNumber(properties: Pick<MessageProperties, 'correlationId' | 'messageId'>) {
  for (const id of [properties.correlationId, properties.messageId]) {
    const match = typeof id === 'string' ? /^chaos-(\d+)$/.exec(id) : null;
    if (match) return Number(match[1]);
  }
  return undefined;
}

/**
 * A Ruote workitem for `type` whose fields carry the number (and `fields`, for plugins that read
 * them, e.g. the hang plugin's `mode`); every third one also carries the id in correlation_id
 * (the others only in message_id), so both ways of naming a result are used.
 */
export function numberedTask(
  n: number,
  type = 'echo',
  fields: Record<string, unknown> = {},
): Outgoing {
  const body = Buffer.from(
    JSON.stringify({ fields: { ...fields, n, params: { worker_type: type } } }),
  );
  const options: Options.Publish = {
    persistent: true,
    contentType: 'application/json',
    messageId: taskId(n),
  };
  if (n % 3 === 0) options.correlationId = taskId(n);
  return { n, body, options };
}

/** Tasks 0 … count-1 for `type`. */
export function numberedTasks(count: number, type = 'echo'): Outgoing[] {
  return Array.from({ length: count }, (_, n) => numberedTask(n, type));
}
