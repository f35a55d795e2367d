/**
 * Reading one element strictly: every attribute and child must be known (a mistyped key is an
 * error, not a silently ignored setting), and every failure is a ConfigError at the element.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { splitParams } from './params.js';
import type { Pattern } from './types.js';
import type { XmlElement } from './xml.js';

export class Reader {
  constructor(
    /** The file name as the operator gave it, for messages. */
    readonly file: string,
    /** Directory that relative paths in the file are resolved against. */
    readonly baseDir: string,
  ) {}

  fail(el: XmlElement, detail: string): never {
    throw new ConfigError({ file: this.file, line: el.line, column: el.column, element: `<${el.name}>`, detail });
  }

  /** Checks attribute names and child element names against what is allowed here. */
  shape(el: XmlElement, attrs: readonly string[], children: readonly string[] = [], textAllowed = false): void {
    for (const name of Object.keys(el.attrs)) {
      if (attrs.includes(name)) continue;
      const near = attrs.find((a) => a.toLowerCase() === name.toLowerCase());
      this.fail(
        el,
        `unknown attribute ${name}${near ? ` (did you mean ${near}?)` : ''}; allowed here: ${attrs.join(', ') || 'none'}`,
      );
    }
    for (const child of el.children) {
      if (!children.includes(child.name)) {
        this.fail(child, `unknown element <${child.name}> inside <${el.name}>; allowed there: ${children.map((c) => `<${c}>`).join(', ') || 'none'}`);
      }
    }
    if (!textAllowed && el.text.trim() !== '') {
      this.fail(el, `unexpected text ${JSON.stringify(el.text.trim().slice(0, 40))}; settings go in attributes`);
    }
  }

  /** The only child with this name, if any; a second one is an error. */
  one(el: XmlElement, name: string): XmlElement | undefined {
    const found = el.children.filter((c) => c.name === name);
    if (found[1]) this.fail(found[1], `duplicate <${name}>: only one is allowed inside <${el.name}>`);
    return found[0];
  }

  all(el: XmlElement, name: string): XmlElement[] {
    return el.children.filter((c) => c.name === name);
  }

  /** Sersync's rule: a switch is on only when its value is exactly "true". */
  flag(el: XmlElement, name: string): boolean {
    return el.attrs[name] === 'true';
  }

  optional(el: XmlElement, name: string): string | undefined {
    return el.attrs[name];
  }

  required(el: XmlElement, name: string, what = 'a value'): string {
    const v = el.attrs[name];
    if (v === undefined) this.fail(el, `missing attribute ${name}: expected ${what}`);
    if (v.trim() === '') this.fail(el, `${name} is empty: expected ${what}`);
    return v;
  }

  int(el: XmlElement, name: string, opts: { min: number; max?: number; what: string }, fallback?: number): number {
    const raw = el.attrs[name];
    if (raw === undefined) {
      if (fallback !== undefined) return fallback;
      this.fail(el, `missing attribute ${name}: expected ${opts.what}`);
    }
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(n) || n < opts.min || n > max) {
      const range = opts.max !== undefined ? ` (${opts.min}-${opts.max})` : opts.min > 0 ? ` (at least ${opts.min})` : '';
      this.fail(el, `${name}: expected ${opts.what}${range}, got ${JSON.stringify(raw)}`);
    }
    return n;
  }

  /** An argv attribute (prefix, sshOptions…), split like a command line but never by a shell. */
  words(el: XmlElement, name: string): string[] {
    try {
      return splitParams(el.attrs[name] ?? '');
    } catch (err) {
      return this.fail(el, `${name}: ${(err as Error).message}`);
    }
  }

  port(el: XmlElement, name: string): number {
    return this.int(el, name, { min: 1, max: 65535, what: 'a port number' });
  }

  /** A path attribute, resolved against the config file's directory. */
  path(el: XmlElement, name: string): string {
    return this.resolvePath(this.required(el, name, 'a path'));
  }

  resolvePath(p: string): string {
    return isAbsolute(p) ? resolve(p) : resolve(this.baseDir, p);
  }

  /** Sersync's filter expressions match the whole string: compiled as `^(?:…)$`. */
  fullMatch(el: XmlElement, name: string): Pattern {
    const source = this.required(el, name, 'a regular expression');
    return { source, regex: this.regex(el, name, `^(?:${source})$`, source) };
  }

  regex(el: XmlElement, name: string, compiled: string, source = compiled): RegExp {
    try {
      return new RegExp(compiled);
    } catch (err) {
      const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
      return this.fail(el, `${name}: ${JSON.stringify(source)} is not a valid regular expression (${why})`);
    }
  }

  url(el: XmlElement, name: string): string {
    const v = this.required(el, name, 'an http(s) URL');
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) this.fail(el, `${name}: expected an http:// or https:// URL, got ${JSON.stringify(v)}`);
    return v;
  }

  /** `<header name value/>` lines → a record; names must be HTTP tokens, values single-line. */
  headers(els: readonly XmlElement[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const h of els) {
      this.shape(h, ['name', 'value']);
      const name = this.required(h, 'name', 'an HTTP header name');
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) this.fail(h, `name: ${JSON.stringify(name)} is not a valid HTTP header name`);
      const value = h.attrs['value'] ?? '';
      if (/[\r\n\0]/.test(value)) this.fail(h, 'value: a header value must be a single line');
      out[name] = value;
    }
    return out;
  }
}
