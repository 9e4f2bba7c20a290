import type { Scenario } from '../harness/harness.js';
import { poisonScenario } from './j-poison-classic.js';

/** (k) Scenario j on quorum queues (they count deliveries themselves; crashes stay in headers). */
export const scenario: Scenario = poisonScenario('k-poison-quorum', 'quorum');
