/** What test/support/global-setup.ts provides to test files (vitest `provide`/`inject`). */
import type { BrokerInfo } from '../../src/dev/broker-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    taskqueueBroker: BrokerInfo;
  }
}
