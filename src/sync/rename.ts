/**
 * A directory renamed inside a root, sent without its contents (issue 9 item 2): the receiver
 * hard-links each unchanged file from the OLD path (`--link-dest`, relative to the destination
 * directory) and only what differs crosses the wire.
 *
 *   rsync <commonParams> -r --mkpath --delete --link-dest=<old relative to new> ./NEW/ DEST/NEW/
 *
 * Correct by construction when the old copy changed meanwhile or is missing on the remote: rsync
 * links only files whose quick check matches the source; everything else is a normal send. The
 * old path is deleted afterwards by the normal delete of the engine (the watcher reports it as a
 * missing change of its own). No shell on the remote, no `ssh … mv`.
 *
 * Not applicable (the caller sends NEW as a normal tree) when a name holds a non-UTF-8 byte (argv
 * words are UTF-8 strings; names otherwise travel on stdin), or when commonParams already carries a
 * user's own --link-dest/--copy-dest/--compare-dest (rsync takes up to 20 and would search them too).
 *
 * Not wired into the engine yet: the planner would turn a Change with `from` (a rename from the
 * inotify backend) for a directory into this job instead of a tree job.
 */
import { spawn } from 'node:child_process';
import { posix } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { hasEscapes } from '../core/names.js';
import { destinationFor, sshCommand } from './argv.js';

export interface RenameJob {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  /** Both relative to the root, POSIX, canonical strings (core/names.ts). */
  readonly from: string;
  readonly to: string;
}

const ALT_DEST = /^--(link|copy|compare)-dest(=|$)/;

/** The argv (without the launcher) for a rename, or a reason it does not apply. */
export function renameArgv(job: RenameJob): { argv: string[] } | { notApplicable: string } {
  const { remote, rsync, from, to } = job;
  if (from === '' || to === '' || from === to) return { notApplicable: 'not a rename below the root' };
  if (hasEscapes(from) || hasEscapes(to)) return { notApplicable: 'a name is not UTF-8: it can only travel on stdin' };
  if (rsync.commonParams.some((w) => ALT_DEST.test(w))) return { notApplicable: 'commonParams has its own --link-dest/--copy-dest/--compare-dest' };
  if (posix.isAbsolute(from) || posix.isAbsolute(to) || from.split('/').includes('..') || to.split('/').includes('..')) return { notApplicable: 'not a relative path' };
  const linkDest = posix.relative(to, from);
  const argv = [
    rsync.binary,
    ...rsync.commonParams,
    '-r',
    // NEW's parents may not exist on the remote yet (a rename into a new directory).
    '--mkpath',
    '--delete',
    `--link-dest=${linkDest}`,
    ...(rsync.timeoutSeconds !== undefined ? [`--timeout=${rsync.timeoutSeconds}`] : []),
    ...(remote.mode === 'daemon'
      ? ['--sockopts=TCP_NODELAY', ...(remote.port !== undefined ? [`--port=${remote.port}`] : []), ...(remote.passwordFile !== undefined ? [`--password-file=${remote.passwordFile}`] : [])]
      : ['-e', sshCommand(remote)]),
    // "./" keeps a leading dash in a name from reading as an option.
    `./${to}/`,
    `${destinationFor(remote)}${to}/`,
  ];
  return { argv };
}

/** Run the rename job from `root`; resolves with rsync's exit code and stderr. */
export function runRename(root: string, argv: readonly string[], launcher: readonly string[] = []): Promise<{ code: number | null; stderr: string }> {
  const words = [...launcher, ...argv];
  return new Promise((resolve, reject) => {
    const p = spawn(words[0]!, words.slice(1), { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}
