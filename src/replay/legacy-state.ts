/**
 * Taking over the state of earlier versions, which kept one shared state dir for every config
 * (`<base>/pending.json`, `running`, `replay.jsonl`, and `pending.m-NAME.json` / `running.m-NAME`
 * for `-m`). Now each config has its own dir under that base (config/defaults.ts configStateDir).
 *
 * The old files do not say which config wrote them, but their records do say which watch root
 * they belong to: so each config, at its start, takes what is for ITS roots and leaves the rest for
 * the configs that watch the others. Rules (docs/operations.md, "Several instances"):
 * - pending changes and replay records: moved by root (the rest is written back; an emptied file
 *   is removed);
 * - a run marker whose owner is alive: an earlier tssersync still runs on the shared dir, so this
 *   start is refused (it could be this very config);
 * - a dead owner's marker (the earlier run was killed): copied to this config's dir, so its next
 *   start catches up with a full sync, and removed once no pending file of that run is left —
 *   the configs that start later find no marker and trust their own (empty) state;
 * - the old pid file and log file are left where they are (the operator's scripts may read them).
 * Runs under a lock of the shared dir, so two configs starting at once take disjoint parts.
 */
import { constants as fsc } from 'node:fs';
import { copyFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { silent, type Emit } from '../events.js';
import { EnvironmentError } from '../errors.js';
import { errnoCode, ensureDir } from './fs-durable.js';
import { FileLock } from './lock.js';
import { ReplayLog } from './log.js';
import { readPending, type PendingSnapshot } from './pending-file.js';
import { savePending } from './pending-store.js';
import { liveMarkerOwner, RUNNING_FILE } from './run-marker.js';

export interface LegacyAdoption {
  /** The shared dir of earlier versions. */
  readonly legacyDir: string;
  /** This config's own state dir. */
  readonly stateDir: string;
  /** This config's watch roots: what is adopted. */
  readonly roots: readonly string[];
  /** This config's replay log: legacy records are adopted only when it is the default one. */
  readonly replayLog: string;
  readonly emit?: Emit;
}

/** What was taken, for the log line (and tests). */
export interface Adopted {
  readonly lanes: number;
  readonly records: number;
  readonly markers: number;
}

const PENDING_RE = /^pending(?:\.(m-.+))?\.json$/;

export async function adoptLegacyState(o: LegacyAdoption): Promise<Adopted> {
  const none: Adopted = { lanes: 0, records: 0, markers: 0 };
  if (o.legacyDir === o.stateDir) return none;
  let names: string[];
  try {
    names = await readdir(o.legacyDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return none;
    throw err;
  }
  const legacy = names.filter((n) => PENDING_RE.test(n) || n === 'replay.jsonl' || n === RUNNING_FILE || n.startsWith(`${RUNNING_FILE}.m-`));
  if (legacy.length === 0) return none;
  const lock = new FileLock(join(o.legacyDir, 'adopt'));
  return lock.run(() => adopt(o, legacy));
}

async function adopt(o: LegacyAdoption, names: readonly string[]): Promise<Adopted> {
  const emit = o.emit ?? silent;
  const roots = new Set(o.roots);
  let lanes = 0;
  let records = 0;
  let markers = 0;
  await ensureDir(o.stateDir);
  for (const marker of names.filter((n) => n === RUNNING_FILE || n.startsWith(`${RUNNING_FILE}.m-`))) {
    const pid = await liveMarkerOwner(join(o.legacyDir, marker));
    if (pid !== undefined && pid !== process.pid) {
      throw new EnvironmentError(
        `an earlier tssersync (pid ${pid}) is running on the shared state dir ${o.legacyDir}; stop it (kill ${pid}), then start this config again: its state moves to ${o.stateDir}`,
      );
    }
  }
  for (const name of names) {
    const m = PENDING_RE.exec(name);
    if (!m) continue;
    const file = join(o.legacyDir, name);
    const r = await readPending(file);
    if (r.kind !== 'ok') continue; // a corrupt file stays for the operator (and loadPending's message)
    const mine = r.snapshot.lanes.filter((l) => roots.has(l.root));
    if (mine.length === 0) continue;
    const own = join(o.stateDir, name);
    const ownRead = await readPending(own);
    const kept = ownRead.kind === 'ok' ? ownRead.snapshot.lanes : [];
    await savePending(own, { savedAt: r.snapshot.savedAt, lanes: [...kept, ...mine] });
    const rest = r.snapshot.lanes.filter((l) => !roots.has(l.root));
    if (rest.length > 0) await savePending(file, { savedAt: r.snapshot.savedAt, lanes: rest } satisfies PendingSnapshot);
    else await rm(file, { force: true });
    lanes += mine.length;
  }
  for (const marker of names.filter((n) => n === RUNNING_FILE || n.startsWith(`${RUNNING_FILE}.m-`))) {
    const run = marker === RUNNING_FILE ? undefined : marker.slice(RUNNING_FILE.length + 1);
    const own = join(o.stateDir, marker);
    // An own marker already there is newer news than the shared one.
    await copyFile(join(o.legacyDir, marker), own, fsc.COPYFILE_EXCL).catch(() => {});
    markers++;
    const pendingLeft = (await readdir(o.legacyDir)).includes(run ? `pending.${run}.json` : 'pending.json');
    if (!pendingLeft) await rm(join(o.legacyDir, marker), { force: true });
  }
  if (names.includes('replay.jsonl') && o.replayLog === join(o.stateDir, 'replay.jsonl')) {
    const old = new ReplayLog(join(o.legacyDir, 'replay.jsonl'));
    const content = await old.read();
    const mine = content.records.filter((r) => roots.has(r.root));
    if (mine.length > 0) {
      await new ReplayLog(o.replayLog).append(mine);
      const rest = content.records.filter((r) => !roots.has(r.root));
      await old.rewrite(rest, content.mark);
      records = mine.length;
    }
  }
  if (lanes + records + markers > 0) {
    emit({
      type: 'info',
      level: 'info',
      message: `took over the state of earlier versions from ${o.legacyDir} for this config's roots: ${lanes} pending lane(s), ${records} replay record(s)${markers > 0 ? ', an unclean-stop marker' : ''}; this config's state is now in ${o.stateDir}`,
    });
  }
  return { lanes, records, markers };
}

