import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { ConfirmedPublisher } from '../../../src/common/amqp/publisher.js';
import { EVENTS_EXCHANGE } from '../../../src/common/amqp/queues.js';
import { RUN_HEADER } from '../../../src/common/amqp/wire.js';
import { DispatcherEvents } from '../../../src/common/forward/task-events.js';
import { COPY_CAP_BYTES, parseEvent, type WireEvent } from '../../../src/common/tracking/index.js';

function fakePublisher() {
  const sent: { exchange: string; routingKey: string; event: WireEvent }[] = [];
  const publisher = {
    publish(exchange: string, routingKey: string, content: Buffer) {
      sent.push({ exchange, routingKey, event: parseEvent(content) });
      return Promise.resolve();
    },
  } as unknown as ConfirmedPublisher;
  return { publisher, sent };
}

function message(body: string | Buffer, properties: Partial<MessageProperties>): ConsumeMessage {
  return {
    content: Buffer.isBuffer(body) ? body : Buffer.from(body),
    fields: {},
    properties: { headers: {}, ...properties },
  } as unknown as ConsumeMessage;
}

describe('DispatcherEvents', () => {
  it('gives a task without ids a message_id, and leaves one that has an id alone', () => {
    const events = new DispatcherEvents();
    const bare: Options.Publish = {};
    events.identify(bare);
    expect(bare.messageId).toMatch(/^[0-9a-f-]{36}$/);
    const named: Options.Publish = { correlationId: 'c-1' };
    events.identify(named);
    expect(named.messageId).toBeUndefined();
  });

  it('publishes received with the workitem as it came (no BOM), under the forwarded id', async () => {
    const { publisher, sent } = fakePublisher();
    const body = '{"fields":{"params":{"worker_type":"echo"},"n":1}}';
    const m = message(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]), {});
    await new DispatcherEvents().received(publisher, m, 'echo', { messageId: 'm-1' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ exchange: EVENTS_EXCHANGE, routingKey: 'task.received.echo' });
    expect(sent[0]!.event).toMatchObject({ event: 'received', taskId: 'm-1', type: 'echo' });
    expect(sent[0]!.event.workitem).toEqual(JSON.parse(body));
    expect(sent[0]!.event.truncated).toBeUndefined();
  });

  it('says the run of a task the API retried (x-taskqueue-run), and none for a first run', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new DispatcherEvents();
    const body = '{"fields":{}}';
    await events.received(publisher, message(body, { headers: { [RUN_HEADER]: 3 } }), 'echo', {
      messageId: 'r-1',
    });
    await events.received(publisher, message(body, {}), 'echo', { messageId: 'r-2' });
    expect(sent.map((s) => s.event.run)).toEqual([3, undefined]);
  });

  it('says when a task sent into the delay ladder is due, and its deadline; neither otherwise', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new DispatcherEvents();
    const body = '{"fields":{}}';
    const due = Date.parse('2026-12-07T06:00:00.000Z');
    const expiresAt = '2026-12-07T07:00:00.000Z';
    await events.received(
      publisher,
      message(body, {}),
      'echo',
      { messageId: 'd-1' },
      {
        ok: true,
        dueMs: due,
        expiresAt,
      },
    );
    await events.received(
      publisher,
      message(body, {}),
      'echo',
      { messageId: 'd-2' },
      {
        ok: true,
        dueMs: undefined,
        expiresAt,
      },
    );
    await events.received(publisher, message(body, {}), 'echo', { messageId: 'd-3' });
    expect(sent.map((s) => [s.event.notBefore, s.event.expiresAt])).toEqual([
      ['2026-12-07T06:00:00.000Z', expiresAt],
      [undefined, expiresAt],
      [undefined, undefined],
    ]);
  });

  it('copies a text/plain task as text, and cuts a large one', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new DispatcherEvents();
    await events.received(publisher, message('echo hi', { contentType: 'text/plain' }), 'echo', {
      correlationId: 'c-1',
    });
    expect(sent[0]!.event.workitem).toBe('echo hi');
    const big = JSON.stringify({ worker_type: 'echo', s: 'x'.repeat(COPY_CAP_BYTES) });
    await events.received(publisher, message(big, {}), 'echo', { correlationId: 'c-2' });
    expect(sent[1]!.event.truncated).toBe(true);
    expect((sent[1]!.event.workitem as string).length).toBe(COPY_CAP_BYTES);
  });

  it('publishes invalid with its reason and code, without a type; nothing without an id', async () => {
    const { publisher, sent } = fakePublisher();
    const events = new DispatcherEvents();
    await events.invalid(
      publisher,
      message('nope', { messageId: 'm-9' }),
      'not JSON',
      'TQ_ERR_TASK_INVALID',
    );
    expect(sent[0]).toMatchObject({ routingKey: 'task.invalid' });
    expect(sent[0]!.event).toMatchObject({
      event: 'invalid',
      taskId: 'm-9',
      type: '',
      error: 'not JSON',
      errorCode: 'TQ_ERR_TASK_INVALID',
      workitem: 'nope',
    });
    expect(
      events.invalid(publisher, message('nope', {}), 'x', 'TQ_ERR_TASK_INVALID'),
    ).toBeUndefined();
    expect(sent).toHaveLength(1);
  });
});
