/** What test/support/global-setup.ts provides to test files (vitest `provide`/`inject`). */
import type { BrokerInfo } from '@taskqueue/dev/broker-admin';

declare module 'vitest' {
  export interface ProvidedContext {
    taskqueueBroker: BrokerInfo;
  }
}
