import amqp, {
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
} from 'amqplib';

/** A plain amqplib client for tests: publishes tasks and collects results, no taskqueue code. */
export class TestClient {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;

  private constructor(connection: ChannelModel, channel: ConfirmChannel) {
    this.connection = connection;
    this.channel = channel;
  }

  static async connect(url: string): Promise<TestClient> {
    const connection = await amqp.connect(url, { noDelay: true });
    const channel = await connection.createConfirmChannel();
    // The failing operation's own promise carries the error to the test; without a listener the
    // 'error' event would also crash the test worker as an uncaught exception.
    channel.on('error', () => {});
    connection.on('error', () => {});
    return new TestClient(connection, channel);
  }

  async declare(queue: string): Promise<void> {
    await this.channel.assertQueue(queue, { durable: true });
  }

  /** Publishes to a queue through the default exchange and waits for the broker's confirm. */
  publish(queue: string, body: Buffer | string, options: Options.Publish = {}): Promise<void> {
    const content = typeof body === 'string' ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      this.channel.publish('', queue, content, { persistent: true, ...options }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  async messageCount(queue: string): Promise<number> {
    const { messageCount } = await this.channel.checkQueue(queue);
    return messageCount;
  }

  /** Takes every message now on `queue` (acking each). */
  async drain(queue: string): Promise<ConsumeMessage[]> {
    const messages: ConsumeMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (message === false) return messages;
      messages.push(message as unknown as ConsumeMessage);
    }
  }

  /**
   * Consumes `queue` until `count` messages arrived or `timeoutMs` passed; resolves with what
   * arrived either way (tests assert on the count).
   */
  async collect(queue: string, count: number, timeoutMs = 60_000): Promise<ConsumeMessage[]> {
    const messages: ConsumeMessage[] = [];
    let tag = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.channel
        .consume(
          queue,
          (message) => {
            if (!message) return;
            messages.push(message);
            this.channel.ack(message);
            if (messages.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
          { noAck: false },
        )
        .then((reply) => {
          tag = reply.consumerTag;
          if (messages.length >= count) resolve();
        })
        .catch((err: unknown) => {
          // A missing queue closes the channel: fail the test now instead of waiting it out.
          clearTimeout(timer);
          reject(err);
        });
    });
    if (tag) await this.channel.cancel(tag);
    return messages;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}

/** A Ruote workitem for `type` with `fields`. */
export function workitem(type: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ fields: { ...fields, params: { worker_type: type } } });
}
