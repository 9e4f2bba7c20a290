import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Channel,
  MAX_LINE_BYTES,
  MAX_UNSENT_BYTES,
  openPoolChannel,
} from '../../../src/workerpool/channel.js';
import { isChildMessage } from '../../../src/workerpool/ipc.js';

type Message = { kind: string; n?: number; text?: string };

/** Two connected Unix sockets: a channel on one end, the raw peer on the other. */
async function connectedPair(
  accept?: (value: unknown) => value is Message,
): Promise<{ channel: Channel<Message, Message>; peer: Socket }> {
  const dir = mkdtempSync(join(tmpdir(), 'tq-channel-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sock');
  const server: Server = createServer();
  cleanups.push(() => server.close());
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const client = new Socket();
  await new Promise<void>((resolve) => client.connect(path, resolve));
  const peer = await accepted;
  cleanups.push(() => {
    peer.destroy();
    client.destroy();
  });
  return { channel: new Channel<Message, Message>(client, accept), peer };
}

function received(channel: Channel<Message, Message>, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  return new Promise((resolve) => {
    channel.on('message', (message: Message) => {
      messages.push(message);
      if (messages.length === count) resolve(messages);
    });
  });
}

const closed = (channel: Channel<Message, Message>) =>
  new Promise<void>((resolve) => channel.once('close', resolve));

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('Channel', () => {
  it('reads messages split across reads and several in one read, in order', async () => {
    const { channel, peer } = await connectedPair();
    const three = received(channel, 3);
    peer.write('{"kind":"a","n":1}\n{"kind":"b",');
    await new Promise((resolve) => setTimeout(resolve, 20));
    peer.write('"text":"é—×"}\n{"kind":"c"');
    peer.write('}\n');
    expect(await three).toEqual([{ kind: 'a', n: 1 }, { kind: 'b', text: 'é—×' }, { kind: 'c' }]);
    expect(channel.open).toBe(true);
  });

  it('sends one JSON line a message, and closes only after the last one is written', async () => {
    const { channel, peer } = await connectedPair();
    let text = '';
    peer.setEncoding('utf8');
    peer.on('data', (chunk: string) => {
      text += chunk;
    });
    const ended = new Promise((resolve) => peer.once('end', resolve));
    const gone = closed(channel);
    let sent = false;
    channel.send({ kind: 'ready' });
    channel.send({ kind: 'fatal', text: 'x' }, () => {
      sent = true;
      channel.close();
    });
    await ended;
    expect(sent).toBe(true);
    expect(text).toBe('{"kind":"ready"}\n{"kind":"fatal","text":"x"}\n');
    await gone;
    expect(channel.open).toBe(false);
    channel.close(); // idempotent
    channel.send({ kind: 'dropped' }); // dropped, does not throw
  });

  it('closes when the peer goes away, and a send after that is dropped', async () => {
    const { channel, peer } = await connectedPair();
    const gone = closed(channel);
    peer.destroy();
    await gone;
    expect(channel.open).toBe(false);
    expect(() => channel.send({ kind: 'stop' })).not.toThrow();
  });

  it('treats a line that is not JSON as a broken peer', async () => {
    const { channel, peer } = await connectedPair();
    const messages: Message[] = [];
    channel.on('message', (message: Message) => messages.push(message));
    const gone = closed(channel);
    peer.write('{"kind":"a"}\nnot json\n{"kind":"b"}\n');
    await gone;
    expect(messages).toEqual([{ kind: 'a' }]);
  });

  it('treats a line longer than the limit as a broken peer', async () => {
    const { channel, peer } = await connectedPair();
    const gone = closed(channel);
    peer.write(`{"kind":"${'x'.repeat(MAX_LINE_BYTES)}`);
    await gone;
    expect(channel.open).toBe(false);
  });

  it('stops delivering once a listener closes it', async () => {
    const { channel, peer } = await connectedPair();
    const messages: Message[] = [];
    channel.on('message', (message: Message) => {
      messages.push(message);
      channel.close();
    });
    const gone = closed(channel);
    peer.write('{"kind":"a"}\n{"kind":"b"}\n');
    await gone;
    expect(messages).toEqual([{ kind: 'a' }]);
  });
});

describe('Channel with a hostile peer', () => {
  const isMessage = (value: unknown): value is Message =>
    typeof value === 'object' && value !== null && typeof (value as Message).kind === 'string';
  const broken = (channel: Channel<Message, Message>) =>
    new Promise<string>((resolve) => channel.once('broken', resolve));

  it.each([['null'], ['42'], ['"ready"'], ['[]'], ['{"kind":7}']])(
    'delivers nothing of a line that is not a message (%s), says why, and closes',
    async (line) => {
      const { channel, peer } = await connectedPair(isMessage);
      const messages: Message[] = [];
      channel.on('message', (message: Message) => messages.push(message));
      const why = broken(channel);
      const gone = closed(channel);
      peer.write(`{"kind":"a"}\n${line}\n{"kind":"b"}\n`);
      expect(await why).toContain('malformed');
      await gone;
      expect(messages).toEqual([{ kind: 'a' }]);
    },
  );

  it("keeps a listener's exception inside: the channel breaks, nothing is thrown", async () => {
    const { channel, peer } = await connectedPair();
    channel.on('message', (message: Message) => {
      // As a listener that trusts the shape would: null.kind.
      if ((message as unknown as Message | null)!.kind === 'x') throw new Error('unreachable');
    });
    const why = broken(channel);
    peer.write('null\n');
    expect(await why).toContain('listener failed');
    expect(channel.open).toBe(false);
  });

  it('breaks a peer that does not read what it is sent, instead of buffering it', async () => {
    const { channel, peer } = await connectedPair();
    peer.pause();
    const why = broken(channel);
    const line = 'x'.repeat(64 * 1024);
    for (let n = 0; n * line.length <= 2 * MAX_UNSENT_BYTES && channel.open; n++)
      channel.send({ kind: 'verdict', text: line });
    expect(await why).toContain('does not read');
    expect(channel.open).toBe(false);
  });

  it('reports a line that is not JSON, and one over the limit, as broken', async () => {
    for (const text of ['not json\n', `{"kind":"${'x'.repeat(MAX_LINE_BYTES)}`]) {
      const { channel, peer } = await connectedPair(isMessage);
      const why = broken(channel);
      peer.write(text);
      expect(await why).toMatch(/not JSON|over the limit/);
    }
  });
});

describe('isChildMessage', () => {
  it('accepts each kind with its fields of the right type', () => {
    for (const message of [
      { kind: 'ready' },
      { kind: 'lost', keys: ['echo\0a', 'echo\0b'], cause: 'x' },
      { kind: 'lost', keys: [], cause: '' },
      { kind: 'ask', id: 3, key: 'echo\0a' },
      { kind: 'recycle', reason: 'max_tasks_per_child 3 reached' },
      { kind: 'fatal', code: 'TQ_ERR_PLUGIN_LOAD', message: 'no' },
    ])
      expect(isChildMessage(message, 4)).toBe(true);
  });

  it('refuses everything else: no object, an unknown kind, a field missing or of another type, too much', () => {
    for (const message of [
      null,
      undefined,
      7,
      'ready',
      [],
      {},
      { kind: 'verdict', id: 1 },
      { kind: 'lost' },
      { kind: 'lost', keys: 'echo\0a', cause: 'x' },
      { kind: 'lost', keys: [1], cause: 'x' },
      { kind: 'lost', keys: ['a'], cause: null },
      { kind: 'lost', keys: ['a', 'b', 'c', 'd', 'e'], cause: 'more keys than slots' },
      { kind: 'lost', keys: ['k'.repeat(2000)], cause: 'a key no slot holds' },
      { kind: 'ask', id: '1', key: 'a' },
      { kind: 'ask', id: 1.5, key: 'a' },
      { kind: 'ask', id: 1, key: { a: 1 } },
      { kind: 'recycle' },
      { kind: 'fatal', code: 1, message: 'x' },
      { kind: { toString: 'ready' } },
    ])
      expect(isChildMessage(message, 4)).toBe(false);
  });
});

describe('openPoolChannel', () => {
  it('has no channel when the descriptor is not a socket, or not open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tq-channel-'));
    const fd = openSync(join(dir, 'file'), 'w');
    try {
      expect(openPoolChannel(fd)).toBeUndefined();
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(openPoolChannel(fd)).toBeUndefined(); // closed now
  });
});
