/**
 * The "hosts" of the cluster bench: network namespaces `tq31c-1..N` on this machine, each with a
 * veth into the bridge `tq31c-br` and an address in 10.231.31.0/24 (the bridge itself is .1, so
 * the bench's load publisher reaches every host from the root namespace). Each namespace gets an
 * /etc/netns/<ns>/hosts that `ip netns exec` mounts over /etc/hosts: Erlang's distribution needs
 * the other nodes' names (`rabbit@tq31c-2`) to resolve, and the CLI's own short host name too.
 *
 * Everything here is synchronous so that the exit hook can tear it down as well.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Every name this bench creates starts with it, so that a sweep finds only ours. */
export const PREFIX = 'tq31c';
const BRIDGE = `${PREFIX}-br`;
/** A /24 that nothing else on this machine uses (checked at start). */
const SUBNET = '10.231.31';
export const BRIDGE_ADDRESS = `${SUBNET}.1`;
export const MAX_HOSTS = 3;

export interface Host {
  index: number;
  /** The namespace, also the host's name in every hosts file. */
  ns: string;
  address: string;
}

export function hostOf(index: number): Host {
  return { index, ns: `${PREFIX}-${index}`, address: `${SUBNET}.${10 + index}` };
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // absent already: a sweep deletes whatever is there
  }
}

function ourNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => ns.startsWith(`${PREFIX}-`));
}

/** PIDs of the processes whose network namespace is `ns`: only what this bench started there. */
export function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

/**
 * Removes every namespace, veth and hosts file of ours, SIGKILLing by PID what still runs inside
 * (after the graceful stops, that is epmd and Erlang's helpers; after a crash, everything).
 */
export function tearDownNetwork(log: (line: string) => void = () => {}): void {
  let namespaces: string[] = [];
  try {
    namespaces = ourNamespaces();
  } catch (err) {
    log(`ip netns list: ${(err as Error).message}`);
  }
  for (const ns of namespaces) {
    const pids = pidsIn(ns);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (pids.length) log(`${ns}: killed ${pids.length} leftover processes`);
    tryIp('netns', 'del', ns);
  }
  for (let i = 1; i <= MAX_HOSTS; i++) {
    // Deleting a namespace deletes its veth end and so the pair; a half-built one may remain.
    tryIp('link', 'del', `${PREFIX}-v${i}`);
    rmSync(`/etc/netns/${hostOf(i).ns}`, { recursive: true, force: true });
  }
  tryIp('link', 'del', BRIDGE);
}

/** The addresses the machine already has, to refuse a clash with the subnet before touching it. */
function subnetInUse(): boolean {
  return ip('-o', 'addr', 'show')
    .split('\n')
    .some((line) => line.includes(` ${SUBNET}.`) && !line.includes(BRIDGE));
}

/**
 * The bridge and `count` namespaces, each reachable from here and from one another. Leftovers of
 * an earlier run that died without its teardown are swept first.
 */
export function buildNetwork(count: number, log: (line: string) => void): Host[] {
  if (process.getuid?.() !== 0) throw new Error('the cluster bench needs root (ip netns)');
  tearDownNetwork(log);
  if (subnetInUse()) throw new Error(`${SUBNET}.0/24 is in use on this machine; not touching it`);
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
  const hosts = Array.from({ length: count }, (_, i) => hostOf(i + 1));
  // Every host knows every other, and its own short name (the CLI's node is rabbitmqcli@<name>).
  const hostsFile = [
    `127.0.0.1 localhost ${hostname().split('.')[0]}`,
    ...Array.from({ length: MAX_HOSTS }, (_, i) => `${hostOf(i + 1).address} ${hostOf(i + 1).ns}`),
    '',
  ].join('\n');
  for (const host of hosts) {
    const outer = `${PREFIX}-v${host.index}`;
    const inner = `${outer}p`;
    ip('netns', 'add', host.ns);
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', host.ns);
    ip('link', 'set', outer, 'master', BRIDGE);
    ip('link', 'set', outer, 'up');
    ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', inner);
    ip('-n', host.ns, 'link', 'set', inner, 'up');
    ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    const dir = `/etc/netns/${host.ns}`;
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/hosts`, hostsFile);
  }
  log(
    `network: bridge ${BRIDGE} ${BRIDGE_ADDRESS}/24, hosts ${hosts.map((h) => `${h.ns} ${h.address}`).join(', ')}`,
  );
  return hosts;
}

/** The argv prefix that runs a program inside a host (ip execs it: the PID is the program's). */
export const inHost = (host: Host): string[] => ['netns', 'exec', host.ns];
