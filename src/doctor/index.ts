/**
 * `tssersync doctor -o FILE`: checks a setup before it goes live, one line each with the fix.
 * Exit 0 when nothing failed (warnings allowed), 1 otherwise. A config that does not parse is the
 * only finding then (every other check needs it).
 */
import { readFile } from 'node:fs/promises';
import { parseConfig, type ConfigOverrides } from '../config/index.js';
import type { Config } from '../config/types.js';
import { ExitCode, TssersyncError } from '../errors.js';
import { checkDestinations, checkInotify, checkPasswordFiles, checkRemote, checkRoots, checkRsync, checkRunning, checkStateDir } from './checks.js';
import { formatFinding, type Finding } from './diagnose.js';

/** The config without the environment checks (doctor reports those one by one). */
async function parse(file: string, overrides: ConfigOverrides): Promise<Config> {
  const bytes = await readFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = bytes.toString('latin1');
  }
  return parseConfig(text, file, overrides);
}

export async function runDoctor(file: string, overrides: ConfigOverrides = {}, out: (line: string) => void = console.log): Promise<number> {
  let config: Config;
  try {
    config = await parse(file, overrides);
  } catch (err) {
    const message = err instanceof TssersyncError || err instanceof Error ? err.message : String(err);
    out(formatFinding({ level: 'fail', check: 'config', message, fix: 'edit the file (tssersync --check -o FILE shows the effective settings)' }));
    return ExitCode.failure;
  }
  const findings: Finding[] = [];
  const say = (fs: Finding | readonly Finding[]) => {
    for (const f of Array.isArray(fs) ? fs : [fs as Finding]) {
      findings.push(f);
      out(formatFinding(f));
    }
  };
  const remotes = new Set(config.roots.flatMap((r) => r.remotes).map((r) => r.id)).size;
  say({ level: 'ok', check: 'config', message: `${config.file} is valid (${config.roots.length} root(s), ${remotes} remote(s))` });
  const rsync = await checkRsync(config);
  say(rsync);
  say(await checkRoots(config));
  say(await checkPasswordFiles(config));
  say(await checkStateDir(config));
  say(await checkRunning(config));
  say(checkDestinations(config));
  say(await checkInotify(config));
  if (rsync.level === 'ok') {
    const seen = new Set<string>();
    for (const remote of config.roots.flatMap((r) => r.remotes)) {
      if (seen.has(remote.id)) continue;
      seen.add(remote.id);
      say(await checkRemote(config, remote));
    }
  }
  const failed = findings.filter((f) => f.level === 'fail').length;
  const warned = findings.filter((f) => f.level === 'warn').length;
  out(failed > 0 ? `\n${failed} problem(s) to fix before going live${warned ? `, ${warned} warning(s)` : ''}` : `\nready to go live${warned ? ` (${warned} warning(s))` : ''}`);
  return failed > 0 ? ExitCode.failure : ExitCode.ok;
}
