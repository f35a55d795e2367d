/**
 * Sersync pasted `commonParams` into a shell command line. We split it into argv words ourselves
 * (no shell, so `$(…)`, `;` and backticks are plain characters) and refuse the options that would
 * fight the engine: it owns the file list, deletes, the transport and the daemon settings.
 */

/**
 * Splits on unquoted whitespace. `'…'` quotes literally; `"…"` quotes with `\"` and `\\` escapes;
 * a backslash outside quotes escapes the next character. Throws on an unterminated quote.
 */
export function splitParams(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw new SyntaxError(`unterminated ' quote in ${JSON.stringify(s)}`);
      word += s.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\')) j++;
        word += s[j];
      }
      if (j >= s.length) throw new SyntaxError(`unterminated " quote in ${JSON.stringify(s)}`);
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      word += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Long options the engine sets itself or that break it, with the reason given to the operator. */
const FORBIDDEN_LONG: ReadonlyArray<readonly [test: (name: string) => boolean, why: string]> = [
  [(n) => n === '--files-from' || n === '--from0' || n === '--no-from0', 'tssersync feeds the file list itself (--files-from=- --from0)'],
  [(n) => n === '--del' || n.startsWith('--delete'), 'deletes are driven by <inotify><delete start> and the full sync; set them there'],
  [(n) => n === '--remove-source-files' || n === '--remove-sent-files', 'it would delete the watched files after sending'],
  [(n) => n === '--ignore-errors', 'rsync would delete on the remote what it could not read here (an unreadable directory\'s copy)'],
  [(n) => n === '--dry-run' || n === '--list-only', 'nothing would be replicated'],
  [(n) => n === '--daemon' || n === '--server' || n === '--sender' || n === '--config', 'it is not a client transfer option'],
  [(n) => n === '--rsh', 'ssh mode is configured with <ssh start="true"/> or <remote ssh="true" sshOptions="…">'],
  [(n) => n === '--password-file', 'use <auth start="true" passwordfile="…"> or <remote passwordfile="…">'],
  [(n) => n === '--port', 'use <userDefinedPort start="true" port="…"> or <remote port="…">'],
  [(n) => n === '--timeout', 'use <timeout start="true" time="…">'],
  [(n) => n === '--max-delete', 'use <tssersync><maxDelete num="…"/></tssersync>'],
  [(n) => ['--no-relative', '--no-R', '--no-recursive', '--no-r'].includes(n), 'tssersync relies on -R and adds -r where a subtree must be sent'],
  [(n) => ['--read-batch', '--write-batch', '--only-write-batch'].includes(n), 'batch mode does not transfer'],
  [(n) => ['--include-from', '--exclude-from'].includes(n), 'the engine may pass its own; use --exclude=… or --filter="merge FILE" instead'],
  [
    (n) => n === '--iconv',
    'it rewrites names between character sets, and tssersync replicates names as the bytes they are (a GBK or Latin-1 name arrives unchanged); convert names on the source if the remote must hold another encoding',
  ],
];

/** Short options (also inside bundles like `-artuz`) that break the engine. */
const FORBIDDEN_SHORT: Readonly<Record<string, string>> = {
  n: '-n is --dry-run: nothing would be replicated',
  '0': '-0 is --from0: tssersync feeds the file list itself',
  e: '-e is --rsh: ssh mode is configured with <ssh start="true"/> or <remote ssh="true" sshOptions="…">',
};

/** rsync's short options that take an argument: the rest of a bundle is that argument. */
const SHORT_WITH_ARG = new Set(['B', 'T', 'f', 'M', '@']);

/** rsync's long options that take an argument, which may come as the next word (`--exclude '*.tmp'`). */
const LONG_WITH_ARG = new Set(
  ('exclude include filter chmod chown usermap groupmap log-file log-file-format out-format partial-dir temp-dir ' +
    'backup-dir suffix compare-dest copy-dest link-dest bwlimit block-size compress-level compress-choice zc ' +
    'checksum-choice cc skip-compress modify-window max-size min-size max-alloc contimeout sockopts iconv info ' +
    'debug outbuf remote-option rsync-path address stop-after stop-at time-limit protocol checksum-seed')
    .split(' ')
    .map((n) => `--${n}`),
);

/** Why these words cannot be rsync's common parameters, or undefined when they are fine. */
export function forbiddenParam(words: readonly string[]): string | undefined {
  let argNext = false;
  for (const w of words) {
    if (argNext) {
      argNext = false;
      continue;
    }
    if (w.startsWith('--')) {
      const name = w.split('=', 1)[0] as string;
      const hit = FORBIDDEN_LONG.find(([test]) => test(name));
      if (hit) return `${name} is not allowed: ${hit[1]}`;
      argNext = !w.includes('=') && LONG_WITH_ARG.has(name);
    } else if (w.startsWith('-') && w.length > 1) {
      const letters = w.slice(1);
      for (let i = 0; i < letters.length; i++) {
        const c = letters[i] as string;
        const why = FORBIDDEN_SHORT[c];
        if (why) return `${w} is not allowed: ${why}`;
        if (SHORT_WITH_ARG.has(c)) {
          argNext = i === letters.length - 1;
          break;
        }
      }
    } else {
      return `${JSON.stringify(w)} is not an option: commonParams takes rsync options only (sources and destinations come from <localpath> and <remote>)`;
    }
  }
  return undefined;
}

/**
 * commonParams without `-u` / `--update`. Sersync's stock `-artuz` has it, and with it a source file
 * that gets an older mtime than the backup's copy (restored with `cp -p`, `tar x` of an old archive,
 * `touch -d`) is skipped by every job and every reconcile, for good. The source is the truth, so
 * tssersync drops it, and says so in `--check`.
 */
export function withoutUpdate(words: readonly string[]): { words: string[]; dropped: boolean } {
  let dropped = false;
  const out: string[] = [];
  let argNext = false;
  for (const w of words) {
    if (argNext) {
      argNext = false;
      out.push(w);
      continue;
    }
    if (w === '--update') {
      dropped = true;
      continue;
    }
    if (w.startsWith('--')) {
      argNext = !w.includes("=") && LONG_WITH_ARG.has(w);
      out.push(w);
      continue;
    }
    if (!w.startsWith('-') || w === '-') {
      out.push(w);
      continue;
    }
    // A short bundle: letters up to one that takes an argument (the rest is that argument).
    let kept = '';
    let rest = '';
    for (let i = 1; i < w.length; i++) {
      const c = w[i] as string;
      if (SHORT_WITH_ARG.has(c)) {
        rest = w.slice(i);
        argNext = i === w.length - 1;
        break;
      }
      if (c === 'u') dropped = true;
      else kept += c;
    }
    if (kept !== '' || rest !== '') out.push(`-${kept}${rest}`);
  }
  return { words: out, dropped };
}
