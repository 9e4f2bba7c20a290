/**
 * Preloaded into every process under test when BENCH_PROFILE_DIR is set (through NODE_OPTIONS
 * `--import`, which the pool's children inherit; Node 20 refuses `--cpu-prof` there): a V8 CPU
 * profile of the whole process, written at exit as DIR/<script>-<pid>.cpuprofile. The directory
 * must be writable by the children's user (`nobody` under a root pool). Read one with
 * `node bench/dist/profile-top.js FILE`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // An in-thread session answers synchronously, so this completes inside the exit handler.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const name = basename(process.argv[1] ?? 'node', '.js').replace(/[^\w.-]/g, '_');
      const parent = basename(join(process.argv[1] ?? '', '..'));
      writeFileSync(
        join(dir, `${parent}-${name}-${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    });
  });
}
