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

  /**
   * Ready messages on `queue`. Uses a channel of its own: checking a queue that does not exist
   * yet (tests poll for one a program declares) closes the channel it ran on.
   */
  async messageCount(queue: string): Promise<number> {
    return (await this.#checkQueue(queue)).messageCount;
  }

  /** Consumers on `queue` now (the broker's count: no management API needed). */
  async consumerCount(queue: string): Promise<number> {
    return (await this.#checkQueue(queue)).consumerCount;
  }

  async #checkQueue(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(queue);
      return { messageCount, consumerCount };
    } finally {
      await channel.close().catch(() => {});
    }
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
    await this.#waitForQueue(queue, timeoutMs);
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

  /** Waits until a program under test has declared `queue` (consuming a missing one fails). */
  async #waitForQueue(queue: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.messageCount(queue);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}

/** A Ruote workitem for `type` with `fields`. */
export function workitem(type: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ fields: { ...fields, params: { worker_type: type } } });
}
