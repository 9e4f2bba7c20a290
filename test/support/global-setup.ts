/**
 * Vitest globalSetup: opens one broker per test run (SPEC §6 order: TASKQUEUE_AMQP_URL, Docker,
 * private rabbitmq-server node) and hands test files what they need to reach it through
 * `provide('taskqueueBroker', info)`; test files use test/support/broker.ts. When the pool could
 * not run the checkout as it is (its children, as nobody, cannot read it; or it lies below a
 * world-writable directory), it stages the build first (dev/src/stage.ts) and tells
 * test/support/programs.ts through TQ_TEST_RUN_ROOT. The teardown stops what was started here. On Ctrl-C vitest exits without running teardowns; the private node's
 * own exit hook and watchdog (and testcontainers' reaper for Docker) clean up then.
 */

import { fileURLToPath } from 'node:url';
import { type BrokerAdmin, openBrokerAdmin } from '@taskqueue/dev/broker-admin';
import { stageIfUnreadable } from '@taskqueue/dev/stage';
import type { TestProject } from 'vitest/node';
import './provided.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[broker] ${line}\n`);
  // Set before any test file runs: the forked workers inherit it.
  const stage = stageIfUnreadable(fileURLToPath(new URL('../..', import.meta.url)), [
    'test/fixtures',
  ]);
  if (stage.reason) {
    process.stderr.write(
      `[stage] this checkout cannot run as it is (${stage.reason}): programs run from ${stage.root}\n`,
    );
    process.env.TQ_TEST_RUN_ROOT = stage.root;
  }
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
    stage.remove();
  };
}
