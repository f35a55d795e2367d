/**
 * The file-system side of the config: reading confxml.xml, and checking that what it names is
 * there before anything starts (a missing root or an unusable password file is found at start-up,
 * not as a stream of rsync failures).
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { ConfigError, EnvironmentError } from '../errors.js';
import { parseConfig, type ConfigOverrides } from './parse.js';
import type { Config, SecretSource } from './types.js';

export async function loadConfig(file: string, overrides: ConfigOverrides = {}): Promise<Config> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file (give the config with -o FILE)' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new ConfigError({ file, detail: `cannot read the config file: ${why}` });
  }
  const config = parseConfig(decode(bytes, file), file, overrides);
  await checkEnvironment(config);
  return config;
}

/** UTF-8, or ISO-8859-1 when the file says so (Sersync's stock declaration) and is not valid UTF-8. */
function decode(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const head = bytes.subarray(0, 200).toString('latin1');
    if (/encoding=["'](iso-8859-1|latin-?1)["']/i.test(head)) return bytes.toString('latin1');
    throw new ConfigError({ file, detail: 'the file is not valid UTF-8 (declare encoding="ISO-8859-1" if it is Latin-1)' });
  }
}

/** Throws one EnvironmentError naming the first problem (and how many more there are). */
export async function checkEnvironment(config: Config): Promise<void> {
  const problems: string[] = [];
  const at = (line: number | undefined): string => (line !== undefined ? `${config.file}:${line}` : config.file);

  for (const root of config.roots) {
    const st = await stat(root.path).catch((err: NodeJS.ErrnoException) => err);
    if (st instanceof Error) {
      const legacy = st.code === 'ENOENT' ? await legacyBytesRoot(root.path) : undefined;
      const why = legacy
        ? `is named in Latin-1 or another legacy encoding (the directory ${legacy} exists): the watch root's own path must be UTF-8 (names below it may be any bytes); point watch="" at a UTF-8 symlink to it, e.g. ln -s ${legacy} /srv/replicated`
        : st.code === 'ENOENT'
          ? 'does not exist: create it (or mount its disk) or fix watch=""'
          : `cannot be read (${st.code ?? st.message})`;
      problems.push(`${at(root.line)} <localpath>: the watch root ${root.path} ${why}`);
    } else if (!st.isDirectory()) {
      problems.push(`${at(root.line)} <localpath>: the watch root ${root.path} is not a directory`);
    }
  }

  const passwordFiles = new Map<string, number | undefined>();
  for (const remote of config.roots.flatMap((r) => r.remotes)) {
    if (remote.passwordFile && !passwordFiles.has(remote.passwordFile)) passwordFiles.set(remote.passwordFile, remote.line);
  }
  for (const [path, line] of passwordFiles) {
    const why = await secretFileProblem(path, true);
    if (why) problems.push(`${at(line)}: the rsync password file ${path} ${why}`);
  }

  for (const plugin of config.plugins) {
    if (plugin.kind !== 'refreshCDN') continue;
    for (const s of [plugin.legacy?.password, plugin.generic?.secret]) {
      const why = s && (await secretProblem(s));
      if (why) problems.push(`${config.file}: refreshCDN plugin for ${plugin.watch}: ${why}`);
    }
  }

  const [first] = problems;
  if (first) throw new EnvironmentError(problems.length > 1 ? `${first} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : first);
}

async function secretProblem(s: SecretSource): Promise<string | undefined> {
  switch (s.from) {
    case 'inline':
      return undefined;
    case 'env':
      return process.env[s.name] ? undefined : `the environment variable ${s.name} is not set`;
    case 'file': {
      const why = await secretFileProblem(s.path, false);
      return why ? `the secret file ${s.path} ${why}` : undefined;
    }
  }
}

/** rsync refuses a password file others can read; we ask the same of every secret file. */
export async function secretFileProblem(path: string, rsyncRules: boolean): Promise<string | undefined> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) return st.code === 'ENOENT' ? 'does not exist: create it with the password on one line, mode 0600' : `cannot be read (${st.code ?? st.message})`;
  if (!st.isFile()) return 'is not a regular file';
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  if (st.mode & 0o077) return `is accessible by group or others (mode ${mode}): chmod 600 ${path}`;
  // rsync run as root also insists the password file belongs to root.
  if (rsyncRules && process.getuid?.() === 0 && st.uid !== 0) return `must be owned by root when tssersync runs as root: chown root ${path}`;
  const readable = await access(path, constants.R_OK).then(() => true, () => false);
  return readable ? undefined : `is not readable by this user (uid ${process.getuid?.() ?? '?'})`;
}

/**
 * A config declared ISO-8859-1 is read as Latin-1 text, so a root whose name is Latin-1 (or GBK)
 * bytes becomes a string whose UTF-8 form names another, missing, directory. When the bytes as
 * written in the file name an existing directory, say so (as a bash $'…' word) instead of
 * "does not exist". tssersync cannot take such a root itself: rsync runs with the root as its
 * working directory, which node can only give as UTF-8.
 */
async function legacyBytesRoot(path: string): Promise<string | undefined> {
  // Only a string every character of which is one Latin-1 byte, with one at least above 0x7f.
  if (!/[\u0080-\u00ff]/.test(path) || /[^\u0000-\u00ff]/.test(path)) return undefined;
  const bytes = Buffer.from(path, 'latin1');
  const st = await stat(bytes).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  // As a bash $'…' word, so the fix can be pasted: \xNN for bytes outside printable ASCII.
  const word = [...bytes].map((b) => (b === 0x27 ? "\\'" : b === 0x5c ? '\\\\' : b < 0x20 || b >= 0x7f ? `\\x${b.toString(16).padStart(2, '0')}` : String.fromCharCode(b))).join('');
  return `$'${word}'`;
}
