/** Run the built CLI (dist/cli.js) as a subprocess, and write Sersync-style config files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RsyncDaemon } from './rsyncd.js';

export const CLI = join(import.meta.dirname, '../../dist/cli.js');
/** Extra node options for the CLI under test (benchmarks: `TSS_CLI_NODE_ARGS=--cpu-prof`); forked children inherit them. */
const NODE_ARGS = (process.env.TSS_CLI_NODE_ARGS ?? '').split(' ').filter(Boolean);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tssersync ${args.join(' ')} did not finish in time\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start the CLI and leave it running; collect its output. */
export function startCli(args: readonly string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export interface XmlOptions {
  src: string;
  state: string;
  daemon: RsyncDaemon;
  module?: string;
  extraRemotes?: string;
  tssersync?: string;
  sersyncExtra?: string;
  /** Head-level XML after `<tssersync>`, e.g. `<plugin name="…">` blocks. */
  headExtra?: string;
}

export function sersyncXml(o: XmlOptions): string {
  return `<?xml version="1.0" encoding="ISO-8859-1"?>
<head version="2.5">
  <host hostip="localhost" port="8008"></host>
  <debug start="false"/>
  <fileSystem xfs="false"/>
  <filter start="false">
    <exclude expression="(.*)\\.svn"></exclude>
  </filter>
  <inotify>
    <delete start="true"/>
    <createFolder start="true"/>
    <createFile start="false"/>
    <closeWrite start="true"/>
    <moveFrom start="true"/>
    <moveTo start="true"/>
    <attrib start="false"/>
    <modify start="false"/>
  </inotify>
  <sersync>
    <localpath watch="${o.src}">
      <remote ip="127.0.0.1" name="${o.module ?? 'backup'}"/>${o.extraRemotes ?? ''}
    </localpath>
    <rsync>
      <commonParams params="-artuz"/>
      <auth start="true" users="${o.daemon.user}" passwordfile="${o.daemon.passwordFile}"/>
      <userDefinedPort start="true" port="${o.daemon.port}"/>
      <timeout start="true" time="100"/>
      <ssh start="false"/>
    </rsync>
    <failLog path="${join(o.state, 'fail.jsonl')}" timeToExecute="60"/>
    <crontab start="false" schedule="600">
      <crontabfilter start="false">
        <exclude expression="*.php"></exclude>
      </crontabfilter>
    </crontab>
    <plugin start="false" name="command"/>${o.sersyncExtra ?? ''}
  </sersync>
  <tssersync>
    <stateDir path="${o.state}"/>${o.tssersync ?? ''}
  </tssersync>${o.headExtra ?? ''}
</head>
`;
}

export async function writeXml(file: string, o: XmlOptions): Promise<string> {
  await writeFile(file, sersyncXml(o));
  return file;
}
