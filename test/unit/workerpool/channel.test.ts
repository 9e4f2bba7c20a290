import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, MAX_LINE_BYTES, openPoolChannel } from '../../../src/workerpool/channel.js';

type Message = { kind: string; n?: number; text?: string };

/** Two connected Unix sockets: a channel on one end, the raw peer on the other. */
async function connectedPair(): Promise<{ channel: Channel<Message, Message>; peer: Socket }> {
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
  return { channel: new Channel<Message, Message>(client), peer };
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
