/**
 * One push as tssersync's lane makes it (nice 10, ionice best-effort 7, `-artz -R`, the paths
 * NUL-separated on stdin) to a test daemon's module `m`, for the benches that price run forms
 * (fold-cost.ts, fold-job.ts). Resolves when rsync exits 0.
 */
import { spawn } from 'node:child_process';
import type { RsyncDaemon } from '../support/rsyncd.js';

export function pushTo(d: RsyncDaemon, cwd: string, extra: readonly string[], list: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const argv = ['-n', '10', 'ionice', '-c2', '-n7', 'rsync', '--info=stats1', ...extra, '-artz', '-R', '--files-from=-', '--from0', '--port=' + d.port, `--password-file=${d.passwordFile}`, '--sockopts=TCP_NODELAY', './', `${d.user}@127.0.0.1::m/`];
    const p = spawn('nice', argv, { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.stdin.end(list.map((r) => `./${r}\0`).join(''));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}
