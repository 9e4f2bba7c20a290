/**
 * The broker of the test run, for test files. Each test file gets vhosts of its own, so that
 * files running at the same time never see each other's queues or messages (SPEC §6).
 *
 *   const url = await useVhost('dispatcher');   // at top level or in beforeAll
 *
 * The vhosts a file created are deleted after the file (an afterAll registered when this module
 * is first imported by the file).
 */
import { randomBytes } from 'node:crypto';
import { attachBrokerAdmin, type BrokerAdmin, type BrokerInfo } from '@taskqueue/dev/broker-admin';
import { rabbitmqctl } from '@taskqueue/dev/rabbitmq-node';
import { afterAll, inject } from 'vitest';
import './provided.js';

let admin: Promise<BrokerAdmin> | undefined;
const created: string[] = [];
const createdUsers: string[] = [];

/** What global setup provided: kind (external | docker | node), url, and how to reach it. */
export function brokerInfo(): BrokerInfo {
  const info = inject('taskqueueBroker');
  if (!info) {
    throw new Error('no broker provided: run through vitest with test/support/global-setup.ts');
  }
  return info;
}

function getAdmin(): Promise<BrokerAdmin> {
  admin ??= attachBrokerAdmin(brokerInfo());
  return admin;
}

/** Creates a fresh vhost for the calling test file and returns its amqp URL. */
export async function useVhost(label: string): Promise<string> {
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40);
  const name = `tq-test-${safe}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const url = await (await getAdmin()).createVhost(name);
  created.push(name);
  return url;
}

/** Creates a user with `password` and no permission on any vhost (deleted after the file). */
export async function useUser(label: string, password: string): Promise<string> {
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40);
  const name = `tq-test-${safe}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await (await getAdmin()).createUser(name, password);
  createdUsers.push(name);
  return name;
}

/**
 * Sets the broker's `max_message_size` (bytes), for a private node only (`kind: 'node'`); other
 * brokers are not ours to change. It applies to channels opened afterwards, on every vhost: keep
 * it above what other test files publish (1 MiB), and restore RabbitMQ's default (128 MiB) after.
 */
export async function setMaxMessageSize(bytes: number): Promise<void> {
  const info = brokerInfo();
  if (info.kind !== 'node') throw new Error('max_message_size can be set on a private node only');
  await rabbitmqctl(info.node, [
    'eval',
    `application:set_env(rabbit, max_message_size, ${Math.floor(bytes)}).`,
  ]);
}

afterAll(async () => {
  if (admin && createdUsers.length > 0) {
    const a = await admin;
    for (const name of createdUsers.splice(0)) {
      await a.deleteUser(name).catch((err: Error) => console.warn(`user ${name}: ${err.message}`));
    }
  }
  if (!admin || created.length === 0) return;
  const a = await admin;
  const failures: string[] = [];
  for (const name of created.splice(0)) {
    await a.deleteVhost(name).catch((err: Error) => failures.push(`${name}: ${err.message}`));
  }
  if (failures.length > 0) console.warn(`could not delete vhost(s):\n${failures.join('\n')}`);
});
