#!/usr/bin/env node
// Makes sure the system programs tssersync needs are present: rsync (the product's one system
// dependency) and, with --tests, sshd and ssh for the ssh-mode tests. Installs them with apt-get
// when missing and running as root; otherwise stops with a one-line instruction.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wantTests = process.argv.includes('--tests');
const needs = [{ bin: 'rsync', pkg: 'rsync' }];
if (wantTests) {
  needs.push({ bin: 'ssh', pkg: 'openssh-client' }, { bin: '/usr/sbin/sshd', pkg: 'openssh-server' });
}

function have(bin) {
  if (bin.startsWith('/')) return existsSync(bin);
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { stdio: 'ignore' }).status === 0;
}

const missing = needs.filter((n) => !have(n.bin));
if (missing.length === 0) process.exit(0);
const pkgs = [...new Set(missing.map((m) => m.pkg))];
const isRoot = process.getuid?.() === 0;
const hasApt = have('apt-get');
if (!isRoot || !hasApt) {
  console.error(`tssersync needs ${pkgs.join(', ')}: install with \`sudo apt-get install -y ${pkgs.join(' ')}\` (or your system's package manager) and run again.`);
  process.exit(1);
}
console.error(`installing ${pkgs.join(', ')} with apt-get ...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const upd = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
const inst = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
if (upd.status !== 0 || inst.status !== 0 || needs.some((n) => !have(n.bin))) {
  console.error(`could not install ${pkgs.join(', ')} with apt-get; install them by hand and run again.`);
  process.exit(1);
}
