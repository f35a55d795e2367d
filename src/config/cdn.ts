/**
 * `<plugin name="refreshCDN">`: one RefreshCdnPluginConfig per `<localpath>`. The legacy
 * `<cdninfo>` (ChinaCache's HEAD request) and the generic `<purge>` (modern JSON APIs) may be used
 * alone or together. Secrets come inline (Sersync), from an environment variable or from a file.
 */
import { DEFAULTS } from './defaults.js';
import type { Reader } from './read.js';
import type { CdnGenericConfig, CdnLegacyConfig, RefreshCdnPluginConfig, SecretSource } from './types.js';
import type { XmlElement } from './xml.js';

export function readRefreshCdn(r: Reader, el: XmlElement): RefreshCdnPluginConfig[] {
  r.shape(el, ['name'], ['localpath']);
  const out = r.all(el, 'localpath').map((lp) => readLocalpath(r, lp));
  if (out.length === 0) r.fail(el, 'expected <localpath watch="…"> with <cdninfo> or <purge>, and <sendurl> inside <plugin name="refreshCDN">');
  return out;
}

function readLocalpath(r: Reader, lp: XmlElement): RefreshCdnPluginConfig {
  r.shape(lp, ['watch'], ['cdninfo', 'sendurl', 'regexurl', 'purge']);
  const cdninfo = r.one(lp, 'cdninfo');
  const purge = r.one(lp, 'purge');
  const sendurl = r.one(lp, 'sendurl');
  const regexurl = r.one(lp, 'regexurl');
  if (!sendurl) return r.fail(lp, 'expected <sendurl base="http://…"/>: the public URL of the watch root');
  if (!cdninfo && !purge) r.fail(lp, 'expected <cdninfo …/> (legacy refresh) or <purge endpoint="…"> (generic API), or both');
  r.shape(sendurl, ['base']);
  if (regexurl) r.shape(regexurl, ['regex', 'match']);
  return {
    kind: 'refreshCDN',
    watch: r.path(lp, 'watch'),
    baseUrl: r.url(sendurl, 'base'),
    regexUrl: regexurl && r.flag(regexurl, 'regex') ? urlRegex(r, regexurl) : undefined,
    legacy: cdninfo ? readLegacy(r, cdninfo) : undefined,
    generic: purge ? readPurge(r, purge) : undefined,
  };
}

function urlRegex(r: Reader, el: XmlElement): RegExp {
  const source = r.required(el, 'match', 'a regular expression with one capture group');
  const re = r.regex(el, 'match', source);
  // An alternation with the empty string always matches, so the result length counts the groups.
  if ((new RegExp(`${source}|`).exec('')?.length ?? 1) < 2) r.fail(el, `match: ${JSON.stringify(source)} needs a capture group (…) for the URL part`);
  return re;
}

function readLegacy(r: Reader, el: XmlElement): CdnLegacyConfig {
  r.shape(el, ['domainname', 'port', 'username', 'passwd', 'passwdEnv', 'passwdFile']);
  const password = secret(r, el, { inline: 'passwd', env: 'passwdEnv', file: 'passwdFile' });
  if (!password) return r.fail(el, 'expected one of passwd, passwdEnv="VAR" or passwdFile="/path"');
  return {
    domain: r.required(el, 'domainname', 'the CDN API host name'),
    port: el.attrs['port'] !== undefined ? r.port(el, 'port') : 80,
    username: r.required(el, 'username', 'the CDN account name'),
    password,
  };
}

function readPurge(r: Reader, el: XmlElement): CdnGenericConfig {
  r.shape(el, ['endpoint', 'method', 'maxBatch', 'rate', 'secretEnv', 'secretFile'], ['header', 'body']);
  const method = el.attrs['method'] ?? DEFAULTS.cdn.method;
  if (!/^[A-Z]+$/.test(method)) r.fail(el, `method: expected an HTTP method such as POST, got ${JSON.stringify(method)}`);
  const body = r.one(el, 'body');
  if (body) r.shape(body, [], [], true);
  return {
    endpoint: r.url(el, 'endpoint'),
    method,
    headers: r.headers(r.all(el, 'header')),
    // Empty = the request has no body (an API that takes the URLs in the query string).
    bodyTemplate: body ? body.text.trim() : '',
    maxBatch: r.int(el, 'maxBatch', { min: 1, what: 'URLs per request' }, DEFAULTS.cdn.maxBatch),
    ratePerSecond: rate(r, el),
    secret: secret(r, el, { env: 'secretEnv', file: 'secretFile' }),
  };
}

/** `rate="5"` (per second), `rate="0.5"`, or `rate="5/min"` (Cloudflare Free allows 5 a minute). */
function rate(r: Reader, el: XmlElement): number {
  const raw = el.attrs['rate'];
  if (raw === undefined) return DEFAULTS.cdn.ratePerSecond;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|min))?\s*$/.exec(raw);
  const n = m ? Number(m[1]) / (m[2] === 'min' ? 60 : 1) : NaN;
  if (!(n > 0)) r.fail(el, `rate: expected requests per second ("5", "0.5") or per minute ("5/min"), got ${JSON.stringify(raw)}`);
  return n;
}

function secret(r: Reader, el: XmlElement, names: { inline?: string; env: string; file: string }): SecretSource | undefined {
  const given = [names.inline, names.env, names.file].filter((n): n is string => n !== undefined && el.attrs[n] !== undefined);
  if (given.length > 1) r.fail(el, `${given.join(' and ')}: give the secret one way only`);
  const [name] = given;
  if (name === undefined) return undefined;
  if (name === names.file) return { from: 'file', path: r.path(el, name) };
  if (name === names.env) {
    const v = r.required(el, name, 'an environment variable name');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) r.fail(el, `${name}: ${JSON.stringify(v)} is not an environment variable name`);
    return { from: 'env', name: v };
  }
  return { from: 'inline', value: el.attrs[name] ?? '' };
}
