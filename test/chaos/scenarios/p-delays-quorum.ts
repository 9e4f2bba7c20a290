import { delaysScenario } from './n-delays-restarts.js';

/** (p) The same as (n) on quorum queues: the ladder's levels dead-letter at least once. */
export const scenario = delaysScenario('p-delays-quorum', 'quorum');
