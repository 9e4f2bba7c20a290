/**
 * Where a process spent its time, from a .cpuprofile (BENCH_PROFILE_DIR): self time by function
 * and by file, highest first, with idle and GC apart.
 *
 * Usage: node bench/dist/profile-top.js FILE.cpuprofile [COUNT]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, countArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top FILE.cpuprofile [COUNT]');
const count = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(/^.*\/main\//, '');
const keyOf = (id: number) => {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  return `${functionName || '(anonymous)'} ${short(url)}:${lineNumber + 1}`;
};
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
/** Time with the function anywhere on the stack, each sample counted once per function. */
const inclusive = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const { functionName, url } = byId.get(id)!.callFrame;
  total += us;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  const key = keyOf(id);
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const onStack = new Set<string>();
  // Bounded by the depth of the profile's tree.
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at))
    onStack.add(keyOf(at));
  for (const k of onStack) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  const where = url ? short(url) : functionName;
  byFile.set(where, (byFile.get(where) ?? 0) + us);
}
const busy = total - idle;
const show = (title: string, table: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, count))
    console.log(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`,
    );
};
console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy`,
);
show('self time by function (% of busy)', byFunction);
show('self time by file', byFile);
show('total time by function (self + callees)', inclusive);
