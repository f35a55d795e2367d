import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig, describeConfig, defaultStateDir } from '../../../src/config/index.js';
import { configStateDir } from '../../../src/config/defaults.js';
import type { Config, RefreshCdnPluginConfig } from '../../../src/config/types.js';

const STOCK_FILE = fileURLToPath(new URL('../../fixtures/config/sersync-stock.xml', import.meta.url));
const STOCK = readFileSync(STOCK_FILE, 'utf8');

/** A small Sersync-shaped file: `sersync` is the inside of <sersync>, `head` extra head-level elements. */
function conf(sersync: string, head = ''): string {
  return `<?xml version="1.0" encoding="ISO-8859-1"?>\n<head version="2.5">\n${head}\n<sersync>\n${sersync}\n</sersync>\n</head>\n`;
}
const ONE_ROOT = '<localpath watch="/srv/www"><remote ip="10.0.0.2" name="www"/></localpath>';
const parse = (xml: string, overrides = {}): Config => parseConfig(xml, '/etc/tssersync/confxml.xml', overrides);

test('the stock Sersync 2.5.4 file parses to the expected Config', () => {
  const c = parseConfig(STOCK, STOCK_FILE);
  const state = configStateDir(defaultStateDir(), STOCK_FILE);
  assert.deepEqual(c, {
    file: STOCK_FILE,
    debug: false,
    xfs: false,
    excludes: [],
    events: { delete: true, createFolder: true, createFile: false, closeWrite: true, moveFrom: true, moveTo: true, attrib: false, modify: false },
    roots: [
      {
        path: '/opt/tongbu',
        line: 24,
        remotes: [
          { id: '127.0.0.1::tongbu1', host: '127.0.0.1', module: 'tongbu1', mode: 'daemon', port: undefined, user: undefined, passwordFile: undefined, sshOptions: [], line: 25 },
        ],
      },
    ],
    rsync: { commonParams: ['-artz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined, excludes: [], priority: { nice: 10, ionice: { kind: 'best-effort', level: 7 } } },
    threads: 10,
    failLog: { path: `${state}/replay.jsonl`, intervalMinutes: 60 },
    crontab: { enabled: false, intervalMinutes: 600, excludes: [] },
    reconcileIntervalMinutes: 360,
    settleMs: 30,
    maxDelayMs: 1000,
    retries: 3,
    plugins: [],
    definedPlugins: [
      { kind: 'command', prefix: ['/bin/sh'], suffix: [], ignoreError: true, include: [], concurrency: 4, timeoutMs: 60000 },
      { kind: 'socket', watch: '/opt/tongbu', host: '192.168.138.20', port: 8009, bufferLimit: 100000 },
      {
        kind: 'refreshCDN',
        watch: '/data0/htdocs/cms.xoyo.com/site',
        baseUrl: 'http://pic.xoyo.com/cms',
        regexUrl: undefined,
        legacy: { domain: 'ccms.chinacache.com', port: 80, username: 'xxxx', password: { from: 'inline', value: 'xxxx' } },
        generic: undefined,
      },
    ],
    hookWhen: 'all',
    pidFile: `${state}/tssersync.pid`,
    logFile: `${state}/tssersync.log`,
    stateDir: state,
    legacyStateDir: defaultStateDir(),
  });
});

test('the stock file with CRLF line endings and a BOM keeps its line numbers', () => {
  const c = parseConfig(`\uFEFF${STOCK.replace(/\n/g, '\r\n')}`, STOCK_FILE);
  assert.equal(c.roots[0]?.line, 24);
  assert.equal(c.roots[0]?.remotes[0]?.line, 25);
});

test('switches are on only when exactly "true"; the filter and its regexes are full-match', () => {
  const c = parse(
    conf(ONE_ROOT, `<debug start="TRUE"/><fileSystem xfs="true"/>
      <filter start="true"><exclude expression="(.*)\\.gz"/><exclude expression="^info/*"/></filter>
      <inotify><delete start="false"/><modify start="true"/><attrib start="yes"/></inotify>`),
  );
  assert.equal(c.debug, false);
  assert.equal(c.xfs, true);
  assert.deepEqual(c.events, { ...parse(STOCK).events, delete: false, modify: true, attrib: false });
  const [gz, info] = c.excludes;
  assert.equal(gz?.source, '(.*)\\.gz');
  assert.equal(gz?.regex.test('a.gz'), true);
  assert.equal(gz?.regex.test('/sub/x.gz'), true);
  assert.equal(gz?.regex.test('a.gz.txt'), false, 'full match, not search');
  assert.equal(info?.regex.test('info'), true);
  assert.equal(info?.regex.test('/sub/info'), false);
});

test('a filter that is off keeps no excludes', () => {
  assert.deepEqual(parse(conf(ONE_ROOT, '<filter start="false"><exclude expression="(.*)\\.gz"/></filter>')).excludes, []);
});

test('auth, custom port and timeout apply to daemon remotes', () => {
  const c = parse(
    conf(`${ONE_ROOT}<rsync><commonParams params="-artuz --sockopts=TCP_NODELAY"/>
      <auth start="true" users="backup" passwordfile="/etc/rsync.pas"/>
      <userDefinedPort start="true" port="8873"/><timeout start="true" time="100"/><ssh start="false"/></rsync>`),
  );
  assert.deepEqual(c.roots[0]?.remotes[0], {
    id: 'backup@10.0.0.2::www', host: '10.0.0.2', module: 'www', mode: 'daemon', port: 8873, user: 'backup',
    passwordFile: '/etc/rsync.pas', sshOptions: [], line: 5,
  });
  assert.equal(c.rsync.timeoutSeconds, 100);
  assert.deepEqual(c.rsync.commonParams, ['-artz', '--sockopts=TCP_NODELAY']);
});

test('switched-off auth, port and timeout are ignored even with values', () => {
  const c = parse(conf(`${ONE_ROOT}<rsync><auth start="false" users="root" passwordfile="/etc/rsync.pas"/>
    <userDefinedPort start="false" port="874"/><timeout start="false" time="100"/></rsync>`));
  const r = c.roots[0]?.remotes[0];
  assert.equal(r?.user, undefined);
  assert.equal(r?.passwordFile, undefined);
  assert.equal(r?.port, undefined);
  assert.equal(c.rsync.timeoutSeconds, undefined);
});

test('ssh mode: ip:path, global options, the daemon port does not leak into ssh', () => {
  const c = parse(
    conf(`<localpath watch="/srv/www"><remote ip="backup.example" name="/srv/mirror/www"/></localpath>
      <rsync><auth start="true" users="mirror" passwordfile="/etc/rsync.pas"/><userDefinedPort start="true" port="874"/>
      <ssh start="true" options="-i /root/.ssh/id_mirror -o 'StrictHostKeyChecking accept-new'"/></rsync>`),
  );
  assert.deepEqual(c.roots[0]?.remotes[0], {
    id: 'mirror@backup.example:/srv/mirror/www', host: 'backup.example', module: '/srv/mirror/www', mode: 'ssh',
    port: undefined, user: 'mirror', passwordFile: undefined,
    sshOptions: ['-i', '/root/.ssh/id_mirror', '-o', 'StrictHostKeyChecking accept-new'], line: 5,
  });
});

test('several roots and remotes; per-remote attributes win over <rsync>', () => {
  const c = parse(
    conf(`<localpath watch="/srv/www">
        <remote ip="10.0.0.2" name="www"/>
        <remote ip="10.0.0.3" name="www" port="9873" user="other" passwordfile="secrets/other.pas"/>
      </localpath>
      <localpath watch="data/uploads/">
        <remote ip="::1" name="/backup/uploads" ssh="true" port="2222" sshOptions="-o BatchMode=yes"/>
      </localpath>
      <rsync><auth start="true" users="backup" passwordfile="/etc/rsync.pas"/><userDefinedPort start="true" port="874"/></rsync>`),
  );
  assert.deepEqual(c.roots.map((r) => r.path), ['/srv/www', '/etc/tssersync/data/uploads']);
  const [a, b] = c.roots[0]?.remotes ?? [];
  assert.equal(a?.id, 'backup@10.0.0.2::www');
  assert.equal(a?.port, 874);
  assert.equal(a?.passwordFile, '/etc/rsync.pas');
  assert.equal(b?.id, 'other@10.0.0.3::www');
  assert.equal(b?.port, 9873);
  assert.equal(b?.passwordFile, '/etc/tssersync/secrets/other.pas', 'relative to the config file');
  const s = c.roots[1]?.remotes[0];
  assert.deepEqual([s?.id, s?.mode, s?.port, s?.passwordFile, s?.sshOptions], ['backup@[::1]:/backup/uploads', 'ssh', 2222, undefined, ['-o', 'BatchMode=yes']]);
});

test('overrides: -n wins over the file, debug can be forced', () => {
  const xml = conf(ONE_ROOT, '<tssersync><threads num="4"/></tssersync>');
  assert.equal(parse(xml).threads, 4);
  assert.equal(parse(xml, { threads: 16 }).threads, 16);
  assert.equal(parse(xml, { debug: true }).debug, true);
  assert.throws(() => parse(xml, { threads: 0 }), { name: 'UsageError' });
});

test('failLog: the stock /tmp script goes to the state dir, another .sh becomes .jsonl, others are kept', () => {
  const state = configStateDir(defaultStateDir(), '/etc/tssersync/confxml.xml');
  const at = (p: string): string => parse(conf(`${ONE_ROOT}<failLog path="${p}" timeToExecute="5"/>`)).failLog.path;
  assert.equal(at('/tmp/rsync_fail_log.sh'), `${state}/replay.jsonl`);
  assert.equal(at('/var/log/sersync/fail.sh'), '/var/log/sersync/fail.jsonl');
  assert.equal(at('replay.log'), '/etc/tssersync/replay.log');
  assert.deepEqual(parse(conf(`${ONE_ROOT}<failLog path="/x.jsonl" timeToExecute="0"/>`)).failLog, { path: '/x.jsonl', intervalMinutes: 0 });
  assert.deepEqual(parse(conf(ONE_ROOT)).failLog, { path: `${state}/replay.jsonl`, intervalMinutes: 60 });
});

test('crontab and its glob filter', () => {
  const c = parse(conf(`${ONE_ROOT}<crontab start="true" schedule="30"><crontabfilter start="true">
    <exclude expression="*.php"/><exclude expression="info/*"/></crontabfilter></crontab>`));
  assert.deepEqual(c.crontab, { enabled: true, intervalMinutes: 30, excludes: ['*.php', 'info/*'] });
  const off = parse(conf(`${ONE_ROOT}<crontab start="true" schedule="30"><crontabfilter start="false"><exclude expression="*.php"/></crontabfilter></crontab>`));
  assert.deepEqual(off.crontab.excludes, []);
});

test('the <tssersync> extension element sets every engine knob', () => {
  const c = parse(
    conf(ONE_ROOT, `<tssersync><threads num="3"/><settle ms="50" max="2000"/><retry count="5"/><reconcile interval="0"/>
      <maxDelete num="100"/><pidFile path="run/t.pid"/><logFile path="/var/log/t.log"/><stateDir path="/var/lib/t"/>
      <hooks when="any"/><rsyncBinary path="/usr/local/bin/rsync"/></tssersync>`),
  );
  assert.deepEqual(
    [c.threads, c.settleMs, c.maxDelayMs, c.retries, c.reconcileIntervalMinutes, c.rsync.maxDelete, c.pidFile, c.logFile, c.stateDir, c.hookWhen, c.rsync.binary, c.failLog.path],
    [3, 50, 2000, 5, 0, 100, '/etc/tssersync/run/t.pid', '/var/log/t.log', '/var/lib/t', 'any', '/usr/local/bin/rsync', '/var/lib/t/replay.jsonl'],
  );
  assert.equal(parse(conf(ONE_ROOT, '<tssersync><stateDir path="/s"/></tssersync>')).pidFile, '/s/tssersync.pid');
});

test('<priority>: rsync at nice 10, best-effort:7 by default; off restores the old behaviour', () => {
  const prio = (xml: string) => parse(conf(ONE_ROOT, `<tssersync>${xml}</tssersync>`)).rsync.priority;
  assert.deepEqual(parse(conf(ONE_ROOT)).rsync.priority, { nice: 10, ionice: { kind: 'best-effort', level: 7 } });
  assert.deepEqual(prio('<priority nice="15" ionice="best-effort:5"/>'), { nice: 15, ionice: { kind: 'best-effort', level: 5 } });
  assert.deepEqual(prio('<priority nice="5"/>'), { nice: 5, ionice: { kind: 'best-effort', level: 7 } });
  assert.deepEqual(prio('<priority ionice="idle"/>'), { nice: 10, ionice: { kind: 'idle' } });
  assert.deepEqual(prio('<priority nice="0"/>'), { nice: 0, ionice: undefined });
  assert.deepEqual(prio('<priority nice="off" ionice="off"/>'), { nice: 0, ionice: undefined });
  assert.deepEqual(prio('<priority start="false"/>'), { nice: 0, ionice: undefined });
  assert.deepEqual(prio('<priority nice="0" ionice="best-effort:7"/>'), { nice: 0, ionice: { kind: 'best-effort', level: 7 } });
});

test('<fullSync>: unset by default (the lane picks auto, 10,000 entries); parts auto or 1-64, minEntries >= 0; a bad value names the element', () => {
  const full = (xml: string) => parse(conf(ONE_ROOT, `<tssersync>${xml}</tssersync>`)).rsync.fullSync;
  assert.equal(parse(conf(ONE_ROOT)).rsync.fullSync, undefined);
  assert.deepEqual(full('<fullSync/>'), { parts: 'auto', minEntries: 10000 });
  assert.deepEqual(full('<fullSync parts="AUTO" minEntries="0"/>'), { parts: 'auto', minEntries: 0 });
  assert.deepEqual(full('<fullSync parts="1"/>'), { parts: 1, minEntries: 10000 });
  assert.deepEqual(full('<fullSync parts="3" minEntries="500"/>'), { parts: 3, minEntries: 500 });
  for (const bad of ['0', '65', 'many', '-2']) assert.throws(() => full(`<fullSync parts="${bad}"/>`), /fullSync.*parts|parts.*rsync runs/s, bad);
  assert.throws(() => full('<fullSync minEntries="-1"/>'), /minEntries/);
  assert.throws(() => full('<fullSync part="2"/>'), /part/);
});

test('plugins: only started ones run; all are defined', () => {
  const xml = conf(
    `${ONE_ROOT}<plugin start="true" name="command"/><plugin start="true" name="http"/><plugin start="false" name="socket"/>`,
    `<plugin name="command"><param prefix="/usr/bin/env FOO=1 hooks/run.sh" suffix="--quiet 'a b'" ignoreError="false" concurrency="2" timeout="5"/>
       <filter start="true"><include expression="(.*)\\.php"/></filter></plugin>
     <plugin name="socket"><localpath watch="/srv/www"><deshost ip="127.0.0.1" port="8009" bufferLimit="10"/></localpath></plugin>
     <plugin name="http"><webhook url="http://127.0.0.1:9000/hook" timeout="2000"/><header name="Authorization" value="Bearer s3cret"/></plugin>`,
  );
  const c = parse(xml);
  assert.deepEqual(c.plugins.map((p) => p.kind), ['command', 'http']);
  assert.equal(c.definedPlugins?.length, 3);
  const [cmd, http] = c.plugins;
  assert.ok(cmd?.kind === 'command');
  assert.deepEqual(cmd.prefix, ['/usr/bin/env', 'FOO=1', 'hooks/run.sh']);
  assert.deepEqual(cmd.suffix, ['--quiet', 'a b']);
  assert.deepEqual([cmd.ignoreError, cmd.concurrency, cmd.timeoutMs], [false, 2, 5000]);
  assert.equal(cmd.include[0]?.regex.test('/srv/www/index.php'), true);
  assert.equal(cmd.include[0]?.regex.test('/srv/www/index.php.bak'), false);
  assert.deepEqual(http, { kind: 'http', watch: undefined, url: 'http://127.0.0.1:9000/hook', headers: { Authorization: 'Bearer s3cret' }, timeoutMs: 2000 });
  assert.deepEqual(c.definedPlugins?.[1], { kind: 'socket', watch: '/srv/www', host: '127.0.0.1', port: 8009, bufferLimit: 10 });
});

test('refreshCDN: legacy with a secret from env, regexurl, and a generic purge', () => {
  const c = parse(
    conf(
      `${ONE_ROOT}<plugin start="true" name="refreshCDN"/>`,
      `<plugin name="refreshCDN"><localpath watch="/srv/www/site">
        <cdninfo domainname="ccms.chinacache.com" port="80" username="me" passwdEnv="CDN_TOKEN"/>
        <sendurl base="http://pic.example.com/cms"/>
        <regexurl regex="true" match="site([/a-zA-Z0-9]*)\\.example\\.com/images"/>
        <purge endpoint="https://api.example.com/purge" maxBatch="10" rate="2" secretFile="cf.token">
          <header name="Authorization" value="Bearer \${secret}"/>
          <body>{"files": "\${urls}", "note": "a &amp; b"}</body>
        </purge>
      </localpath></plugin>`,
    ),
  );
  const p = c.plugins[0] as RefreshCdnPluginConfig;
  assert.equal(p.watch, '/srv/www/site');
  assert.equal(p.baseUrl, 'http://pic.example.com/cms');
  assert.equal(p.regexUrl?.exec('/srv/www/site/a.example.com/images/x.png')?.[1], '/a');
  assert.deepEqual(p.legacy, { domain: 'ccms.chinacache.com', port: 80, username: 'me', password: { from: 'env', name: 'CDN_TOKEN' } });
  assert.deepEqual(p.generic, {
    endpoint: 'https://api.example.com/purge', method: 'POST', headers: { Authorization: 'Bearer ${secret}' },
    bodyTemplate: '{"files": "${urls}", "note": "a & b"}', maxBatch: 10, ratePerSecond: 2,
    secret: { from: 'file', path: '/etc/tssersync/cf.token' },
  });
});

test('refreshCDN purge rate: per second, fractional, or per minute; anything else is located', () => {
  const purge = (rate: string) =>
    conf(
      `${ONE_ROOT}<plugin start="true" name="refreshCDN"/>`,
      `<plugin name="refreshCDN"><localpath watch="/srv/www/site"><sendurl base="http://x.example"/>
        <purge endpoint="https://api.example.com/purge" rate="${rate}" secretEnv="T"/></localpath></plugin>`,
    );
  const rateOf = (rate: string) => (parse(purge(rate)).plugins[0] as RefreshCdnPluginConfig).generic?.ratePerSecond;
  assert.equal(rateOf('5'), 5);
  assert.equal(rateOf('0.5'), 0.5);
  assert.equal(rateOf('5/min'), 5 / 60);
  assert.equal(rateOf('2/s'), 2);
  for (const bad of ['0', 'fast', '-1', '5/hour']) assert.throws(() => parse(purge(bad)), /rate: expected requests per second/);
});

test('describeConfig names what matters and never prints a secret', () => {
  const c = parse(
    conf(
      `<localpath watch="/srv/www"><remote ip="10.0.0.2" name="www" user="u" passwordfile="/etc/p.pas" port="874"/></localpath>
       <plugin start="true" name="refreshCDN"/><plugin start="true" name="http"/>`,
      `<plugin name="refreshCDN"><localpath watch="/srv/www"><cdninfo domainname="cdn.example" username="me" passwd="hunter2"/>
         <sendurl base="http://www.example.com"/>
         <purge endpoint="https://api.example.com/purge?key=topsecret" secretEnv="CDN_TOKEN"><header name="X-Key" value="zzsecretzz"/></purge>
       </localpath></plugin>
       <plugin name="http"><webhook url="http://user:pw1234@hooks.example/x?token=tok999"/><header name="Authorization" value="Bearer abcdef"/></plugin>`,
    ),
  );
  const text = describeConfig(c);
  for (const want of ['/srv/www', 'u@10.0.0.2::www', 'rsync daemon', 'port 874', 'user u', '/etc/p.pas', '(from env CDN_TOKEN)', 'threads per remote: 10', 'Authorization', 'replay log']) {
    assert.ok(text.includes(want), `missing ${want} in:\n${text}`);
  }
  for (const secret of ['hunter2', 'topsecret', 'zzsecretzz', 'pw1234', 'tok999', 'abcdef']) {
    assert.ok(!text.includes(secret), `leaked ${secret} in:\n${text}`);
  }
});

test('state dir: one per config file by default (keyed by its real path), the <stateDir> given is used as is', async () => {
  const { mkdtemp, symlink, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join, relative } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'tss-statedir-'));
  try {
    const a = join(dir, 'a.xml');
    const b = join(dir, 'b.xml');
    await writeFile(a, conf(ONE_ROOT));
    await writeFile(b, conf(ONE_ROOT));
    await symlink(a, join(dir, 'link.xml'));
    const of = (file: string) => parseConfig(conf(ONE_ROOT), file);
    const ca = of(a);
    assert.notEqual(ca.stateDir, of(b).stateDir, 'two configs, two state dirs');
    assert.equal(of(join(dir, 'link.xml')).stateDir, ca.stateDir, 'a symlink names the same config');
    assert.equal(of(relative(process.cwd(), a)).stateDir, ca.stateDir, 'a relative -o names the same config');
    assert.match(ca.stateDir, new RegExp(`^${defaultStateDir()}/a-[0-9a-f]{12}$`));
    assert.equal(ca.legacyStateDir, defaultStateDir());
    // Everything that must not be shared between two instances follows the state dir.
    assert.deepEqual([ca.pidFile, ca.logFile, ca.failLog.path], ['tssersync.pid', 'tssersync.log', 'replay.jsonl'].map((f) => join(ca.stateDir, f)));
    const given = parseConfig(conf(ONE_ROOT, '<tssersync><stateDir path="/var/lib/mine"/></tssersync>'), a);
    assert.equal(given.stateDir, '/var/lib/mine');
    assert.equal(given.legacyStateDir, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
