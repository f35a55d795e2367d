/**
 * Secrets for CDN APIs, resolved at delivery (so a rotated token file is picked up without a
 * restart). Messages name the variable or file, never the value.
 */
import { readFile } from 'node:fs/promises';
import { HookError } from '../errors.js';
import type { SecretSource } from '../config/types.js';

export async function resolveSecret(source: SecretSource, hook: string, env: NodeJS.ProcessEnv): Promise<string> {
  switch (source.from) {
    case 'inline':
      return source.value;
    case 'env': {
      const v = env[source.name];
      if (v === undefined || v === '') throw new HookError(hook, `the secret environment variable ${source.name} is not set`);
      return v;
    }
    case 'file': {
      let text: string;
      try {
        text = await readFile(source.path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new HookError(hook, `cannot read the secret file ${source.path} (${code})`);
      }
      // Editors and `echo` add a final newline; no token ends with one.
      const v = text.replace(/\r?\n$/, '');
      if (v === '') throw new HookError(hook, `the secret file ${source.path} is empty`);
      return v;
    }
  }
}

/** Replaces every occurrence of a secret in text meant for a log or an error message. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}
