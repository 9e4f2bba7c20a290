import type { Scenario } from '../harness/harness.js';
import { scenario as a } from './a-kill-children.js';
import { scenario as b } from './b-kill-dispatcher.js';
import { scenario as c } from './c-broker-outage.js';
import { scenario as d } from './d-kill-one-of-each.js';
import { scenario as e } from './e-cluster-node-down.js';
import { scenario as f } from './f-fuzz-inputs.js';

/** Every scenario, in the order the runner runs them; each is one file in this directory. */
export const SCENARIOS: Scenario[] = [a, b, c, d, e, f];
