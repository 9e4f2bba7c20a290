import type { Scenario } from '../harness/harness.js';
import { retriesScenario } from './h-retries-classic.js';

/** (i) Scenario h on quorum queues (their delivery count and dead-lettering differ). */
export const scenario: Scenario = retriesScenario('i-retries-quorum', 'quorum');
