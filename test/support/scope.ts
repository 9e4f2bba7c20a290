import { afterAll, afterEach, beforeAll } from 'vitest';
import { TestClient } from './amqp-client.js';
import { useVhost } from './broker.js';
import { type Program, startPool, writeConfig } from './programs.js';

/** A step run after the test that added it. */
export type Cleanup = () => unknown;

/**
 * What a `describe` of integration tests sets up the same way: a vhost of its own and a client on
 * it, and the programs each test starts, stopped after that test (last started first), so that
 * no program of one test consumes the next one's tasks.
 */
export interface TestScope {
  /** The vhost's URL; read it inside a test or a hook, once `beforeAll` has run. */
  readonly url: string;
  readonly client: TestClient;
  /** Runs `step` after the current test, before the steps added earlier. */
  cleanup(step: Cleanup): void;
  /**
   * Writes the config `text` and starts a program on it (the pool unless told): stopped, and its
   * config removed, after the test.
   */
  program(text: string, start?: (file: string) => Program): Program;
}

/**
 * Writes the config `text` and starts a program on it (the pool unless told); `cleanup` is given
 * the step that stops it and removes its config.
 */
export function startProgram(
  text: string,
  cleanup: (step: Cleanup) => void,
  start: (file: string) => Program = startPool,
): Program {
  const config = writeConfig(text);
  const program = start(config.file);
  cleanup(async () => {
    await program.stop();
    config.cleanup();
  });
  return program;
}

/** Call inside a `describe`: registers its hooks and returns the scope they fill in. */
export function useTestScope(label: string): TestScope {
  let url: string | undefined;
  let client: TestClient | undefined;
  const steps: Cleanup[] = [];

  beforeAll(async () => {
    url = await useVhost(label);
    client = await TestClient.connect(url);
  });
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await client?.close();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`test scope ${label}: ${what} read before beforeAll`);
    return value;
  };
  const cleanup = (step: Cleanup) => {
    steps.push(step);
  };
  return {
    get url() {
      return ready(url, 'url');
    },
    get client() {
      return ready(client, 'client');
    },
    cleanup,
    program: (text, start) => startProgram(text, cleanup, start),
  };
}
