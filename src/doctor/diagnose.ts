/**
 * What a failed doctor rsync means, and the fix: a table of stderr patterns, most telling first.
 * Pure: an outcome in, one finding out.
 */
import type { RemoteConfig } from '../config/types.js';
import { causeLine } from '../sync/messages.js';
import type { RsyncOutcome } from '../sync/types.js';

export type Level = 'ok' | 'warn' | 'fail';

export interface Finding {
  readonly level: Level;
  /** What was checked: `config`, `remote 10.0.0.2::www`, `inotify`, … */
  readonly check: string;
  readonly message: string;
  /** What to do about it (fail and warn). */
  readonly fix?: string;
}

interface Rule {
  readonly re: RegExp;
  readonly mode?: RemoteConfig['mode'];
  readonly what: (r: RemoteConfig) => string;
  readonly fix: (r: RemoteConfig) => string;
}

const sshPort = (r: RemoteConfig) => (r.port !== undefined ? `-p ${r.port} ` : '');

const RULES: readonly Rule[] = [
  {
    re: /auth failed/i,
    what: (r) => `the rsync daemon refused the login${r.user ? ` of ${r.user}` : ''} (wrong user or password)`,
    fix: (r) => `check <auth users="…"> against the module's "auth users" and the password in ${r.passwordFile ?? 'the password file'} against its secrets file`,
  },
  {
    re: /unknown module/i,
    what: (r) => `the rsync daemon has no module "${r.module.split('/')[0]}"`,
    fix: () => 'fix <remote name="…"> or add the module to the receiver\'s rsyncd.conf (rsync --list-only rsync://HOST/ lists the modules)',
  },
  {
    re: /read only|read-only/i,
    what: () => 'the module is read-only: nothing can be replicated to it',
    fix: () => 'set "read only = no" for the module in the receiver\'s rsyncd.conf',
  },
  {
    re: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i,
    mode: 'ssh',
    what: (r) => `the ssh host key of ${r.host} is not known (or has changed), and BatchMode cannot ask`,
    fix: (r) => `check the key's fingerprint, then add it as the user tssersync runs as: ssh-keyscan ${sshPort(r)}${r.host} >> ~/.ssh/known_hosts`,
  },
  {
    re: /Permission denied \(|Too many authentication failures/i,
    mode: 'ssh',
    what: (r) => `ssh refused the login${r.user ? ` of ${r.user}` : ''} (BatchMode: key only, no password prompt)`,
    fix: (r) => `install the key: ssh-copy-id ${sshPort(r)}${r.user ? `${r.user}@` : ''}${r.host}, or name it with -i in <ssh> options`,
  },
  {
    re: /Permission denied|Operation not permitted/i,
    what: () => 'the receiver cannot write there',
    fix: (r) => (r.mode === 'daemon' ? 'check the module\'s path, its "uid"/"gid" and the directory\'s owner and mode on the receiver' : `check the owner and mode of ${r.module} on ${r.host}`),
  },
  {
    re: /Could not resolve hostname|Name or service not known|getaddrinfo|Temporary failure in name resolution/i,
    what: (r) => `the host name ${r.host} does not resolve`,
    fix: () => 'fix <remote ip="…"> or the resolver (/etc/hosts, DNS)',
  },
  {
    re: /Connection refused|connection timed out|No route to host|Network is unreachable|failed to connect/i,
    what: (r) => `${r.host} does not answer on the ${r.mode === 'daemon' ? `rsync daemon port ${r.port ?? 873}` : `ssh port ${r.port ?? 22}`}`,
    fix: (r) => (r.mode === 'daemon' ? 'start the rsync daemon there (rsync --daemon), check <userDefinedPort> and the firewall' : 'start sshd there, check the port in <ssh> options and the firewall'),
  },
  {
    re: /password file must not be other-accessible|password file must be owned by root/i,
    what: (r) => `rsync refuses the password file ${r.passwordFile ?? ''}`,
    fix: (r) => `chmod 600 ${r.passwordFile ?? 'the password file'} (and chown root when tssersync runs as root)`,
  },
  {
    re: /No such file or directory|change_dir .* failed/i,
    what: (r) => (r.mode === 'ssh' ? `${r.module} does not exist on ${r.host}` : 'the module\'s directory does not exist on the receiver'),
    fix: (r) => (r.mode === 'ssh' ? `create it: ssh ${sshPort(r)}${r.user ? `${r.user}@` : ''}${r.host} mkdir -p ${r.module}` : 'create the module\'s path on the receiver'),
  },
];

/** One finding for a failed write of the scratch file (the outcome of a run that did not exit 0). */
export function diagnoseWrite(remote: RemoteConfig, o: RsyncOutcome): Finding {
  const check = `remote ${remote.id}`;
  if (o.spawnError !== undefined) {
    return { level: 'fail', check, message: `rsync could not run: ${o.spawnError}`, fix: 'install rsync (apt-get install rsync) or fix <rsyncBinary>' };
  }
  for (const rule of RULES) {
    if (rule.mode !== undefined && rule.mode !== remote.mode) continue;
    if (rule.re.test(o.stderrTail)) return { level: 'fail', check, message: rule.what(remote), fix: rule.fix(remote) };
  }
  const cause = causeLine(o.stderrTail);
  const how = o.exitCode !== null ? `exit code ${o.exitCode} (${o.meaning})` : `killed by ${o.signal ?? 'a signal'}`;
  return { level: 'fail', check, message: `writing a scratch file failed with ${how}${cause ? `: ${cause}` : ''}`, fix: 'run the rsync by hand with -v to see more (tssersync --debug logs its argv)' };
}

export function formatFinding(f: Finding): string {
  const tag = f.level === 'ok' ? 'ok  ' : f.level === 'warn' ? 'warn' : 'FAIL';
  return `${tag} ${f.check}: ${f.message}${f.fix && f.level !== 'ok' ? ` — fix: ${f.fix}` : ''}`;
}
