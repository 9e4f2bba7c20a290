import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ConfirmChannel } from 'amqplib';

/**
 * amqplib's own channel and encoder with only the socket taken away: `publish` runs amqplib's
 * real code (api_args' `Object.create(options.headers)`, connection.sendMessage's frame
 * encoding) and the frames it would write land in `frames`. What a test reads back is what
 * amqplib 2.3.1 (pinned in package.json) would have sent; a version that encodes later or copies
 * headers another way fails the tests that rely on it.
 *
 * The internals are reached by path: amqplib's `exports` map offers only its public API.
 */
const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('amqplib')), 'lib');
const { ConfirmChannel: AmqplibConfirmChannel } = require(join(lib, 'channel_model.js')) as {
  ConfirmChannel: new (connection: unknown) => ConfirmChannel & AmqplibInternals;
};
const { Connection } = require(join(lib, 'connection.js')) as {
  Connection: { prototype: object };
};
const { parseFrame, decodeFrame } = require(join(lib, 'frame.js')) as {
  parseFrame: (bin: Buffer, max: number) => { rest: Buffer } | false;
  decodeFrame: (frame: unknown) => { id?: number; fields?: Record<string, unknown> };
};
const defs = require(join(lib, 'defs.js')) as Record<string, number>;

/** What the tests drive of a channel that amqplib's public types do not show. */
interface AmqplibInternals {
  ch: number;
  /** Takes a frame from the broker, as the connection's reader hands it over. */
  accept(frame: { id: number; channel?: number; fields: Record<string, unknown> }): void;
}

export interface WiredChannel {
  channel: ConfirmChannel & AmqplibInternals;
  /** The bytes amqplib wrote, one buffer per write. */
  frames: Buffer[];
  /** The basic properties (headers included) of each message written, decoded by amqplib. */
  sentProperties(): Array<Record<string, unknown>>;
  /** The broker confirms (`ack`) or refuses (`nack`) delivery tag `tag`. */
  confirm(kind: 'ack' | 'nack', tag: number): void;
  /** The broker closes the channel with `replyCode`, naming the method it refused. */
  serverClose(replyCode: number, classId?: number, methodId?: number): void;
}

export function wiredChannel(): WiredChannel {
  const frames: Buffer[] = [];
  const buffer = {
    write: (bytes: Buffer) => {
      frames.push(Buffer.from(bytes));
      return true;
    },
    end: () => {},
  };
  const connection = Object.create(Connection.prototype) as Record<string, unknown>;
  connection.channels = [undefined, { buffer }];
  connection.freeChannels = { clear: () => {} };
  // RabbitMQ's default, as tune-ok would set it.
  connection.frameMax = 131_072;
  const channel = new AmqplibConfirmChannel(connection);
  channel.ch = 1;
  return {
    channel,
    frames,
    sentProperties: () => {
      const found: Array<Record<string, unknown>> = [];
      let rest: Buffer = Buffer.concat(frames);
      for (;;) {
        const frame = parseFrame(rest, 0);
        if (!frame) break;
        const decoded = decodeFrame(frame);
        if (decoded.id === defs.BasicProperties) found.push(decoded.fields ?? {});
        rest = frame.rest;
      }
      return found;
    },
    confirm: (kind, tag) =>
      channel.accept({
        id: kind === 'ack' ? defs.BasicAck! : defs.BasicNack!,
        fields: { deliveryTag: tag, multiple: false, requeue: false },
      }),
    serverClose: (replyCode, classId = 0, methodId = 0) =>
      channel.accept({
        id: defs.ChannelClose!,
        fields: { replyCode, replyText: `TEST - closed with ${replyCode}`, classId, methodId },
      }),
  };
}
