/**
 * Vitest globalSetup: opens one broker per test run (SPEC §6 order: TASKQUEUE_AMQP_URL, Docker,
 * private rabbitmq-server node) and hands test files what they need to reach it through
 * `provide('taskqueueBroker', info)`; test files use test/support/broker.ts. The teardown stops
 * what was started here. On Ctrl-C vitest exits without running teardowns; the private node's
 * own exit hook and watchdog (and testcontainers' reaper for Docker) clean up then.
 */
import type { TestProject } from 'vitest/node';
import { type BrokerAdmin, openBrokerAdmin } from '../../src/dev/broker-admin.js';
import './provided.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[broker] ${line}\n`);
  let admin: BrokerAdmin | undefined = await openBrokerAdmin(log);
  project.provide('taskqueueBroker', admin.info);

  const close = async () => {
    const a = admin;
    admin = undefined;
    await a?.close();
  };
  const onSignal = () => {
    void close();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  };
}
