import type { Scenario } from '../harness/harness.js';
import { scenario as a } from './a-kill-children.js';
import { scenario as b } from './b-kill-dispatcher.js';
import { scenario as c } from './c-broker-outage.js';
import { scenario as d } from './d-kill-one-of-each.js';
import { scenario as e } from './e-cluster-node-down.js';
import { scenario as f } from './f-fuzz-inputs.js';
import { scenario as g } from './g-hang-and-leak.js';
import { scenario as h } from './h-retries-classic.js';
import { scenario as i } from './i-retries-quorum.js';
import { scenario as j } from './j-poison-classic.js';
import { scenario as k } from './k-poison-quorum.js';
import { scenario as l } from './l-hostile-mix.js';
import { scenario as m } from './m-api-10k.js';
import { scenario as n } from './n-delays-restarts.js';
import { scenario as o } from './o-delayed-priorities.js';
import { scenario as p } from './p-delays-quorum.js';

/** Every scenario, in the order the runner runs them; each is one file in this directory. */
export const SCENARIOS: Scenario[] = [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p];
