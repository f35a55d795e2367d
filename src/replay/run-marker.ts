/**
 * The unclean-stop marker: `<stateDir>/running` exists while a daemon runs and is removed by a
 * clean stop. Found at start with its owner gone = the previous run was killed, crashed or lost
 * power, so events were missed and the caller catches up with a full sync.
 *
 * "Owner gone" is not just "pid not alive": after a reboot the old pid is often reused (services
 * start in a similar order), so the marker also holds the boot id and the process start time
 * (Linux /proc; where absent, the pid alone decides).
 *
 * The marker is also the instance lock: a second process on the same state dir (the same config,
 * as state dirs are per config) refuses to start, naming the first one's pid. It is created
 * exclusively — the owner record is written and fsync'd under a temporary name, then hard-linked
 * into place, which fails if a marker exists — so two starts at the same instant cannot both win,
 * and a SIGKILLed owner leaves a marker whose dead pid lets the next start take it over.
 * HACK: taking over a dead owner's marker is rename-aside then link; a racer that judged the same
 * dead marker and renames after our link moves OUR marker aside. The aside copy is compared with
 * what was judged dead and put back if it is not: the window left is two renames wide.
 */
import { link, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { ensureDir, errnoCode, fsyncDir, writeFileAtomic } from './fs-durable.js';
import { pidAlive } from './lock.js';
import { pendingPath, readPending } from './pending-file.js';

export const RUNNING_FILE = 'running';

interface Owner {
  readonly pid: number;
  readonly bootId?: string | undefined;
  /** Clock ticks since boot when the process started (/proc/<pid>/stat field 22). */
  readonly startTicks?: string | undefined;
  readonly startedAt?: string | undefined;
}

export interface RunMark {
  /** The previous run did not stop cleanly (or left a corrupt pending file): catch up. */
  readonly uncleanPrevious: boolean;
  /** Why, for the operator. */
  readonly reason?: string;
}

/** A second instance on one state dir: one line for the operator, naming the running one. */
export class AlreadyRunningError extends EnvironmentError {
  constructor(
    readonly pid: number,
    readonly stateDir: string,
  ) {
    super(`another tssersync (pid ${pid}) is already running with this config (state dir ${stateDir}); stop it first: kill ${pid}`);
  }
}

async function bootId(): Promise<string | undefined> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined))?.trim();
}

async function startTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function readOwner(file: string): Promise<Owner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? 'missing' : 'unreadable';
  }
  return parseOwner(text);
}

function parseOwner(text: string): Owner | 'unreadable' {
  if (/^\s*\d+\s*$/.test(text)) return { pid: Number(text) }; // a bare pid is accepted too
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (Number.isInteger(o.pid)) {
      const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
      return { pid: o.pid as number, bootId: str(o.bootId), startTicks: str(o.startTicks), startedAt: str(o.startedAt) };
    }
  } catch {
    // falls through: a torn marker
  }
  return 'unreadable';
}

/** Is the process that wrote `o` still running (same boot, same process, not a reused pid)? */
async function ownerAlive(o: Owner): Promise<boolean> {
  if (!pidAlive(o.pid)) return false;
  if (o.bootId !== undefined && o.bootId !== (await bootId())) return false;
  if (o.startTicks !== undefined && o.startTicks !== (await startTicks(o.pid))) return false;
  return true;
}

/** The pid of the live process that holds this marker file, if one does. */
export async function liveMarkerOwner(file: string): Promise<number | undefined> {
  const o = await readOwner(file);
  return typeof o === 'object' && (await ownerAlive(o)) ? o.pid : undefined;
}

/** The marker file of a run (`run`: see pendingPath). */
export const runningPath = (stateDir: string, run?: string) => join(stateDir, run ? `${RUNNING_FILE}.${run}` : RUNNING_FILE);

/**
 * Take the marker for this process. Throws AlreadyRunningError when a live process holds it;
 * a dead owner's marker (or an unreadable one) is taken over and reported as an unclean stop.
 */
export async function markRunning(stateDir: string, run?: string): Promise<RunMark> {
  await ensureDir(stateDir);
  const file = runningPath(stateDir, run);
  const owner: Owner = { pid: process.pid, bootId: await bootId(), startTicks: await startTicks(process.pid), startedAt: new Date().toISOString() };
  // A private temp file, complete and fsync'd before it gets the marker's name.
  const tmp = join(stateDir, `.${RUNNING_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFileAtomic(tmp, `${JSON.stringify(owner)}\n`);
  let mark: RunMark = { uncleanPrevious: false };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, file);
        break;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST' || attempt > 20) throw err;
      }
      const text = await readFile(file, 'utf8').catch((err: unknown) => (errnoCode(err) === 'ENOENT' ? undefined : ''));
      if (text === undefined) continue; // removed between our link and our read: try again
      const prev = parseOwner(text);
      const alive = prev !== 'unreadable' && (await ownerAlive(prev));
      // Our own pid alive = this process's earlier engine (a SIGHUP reload): not another instance.
      if (alive && prev.pid !== process.pid) throw new AlreadyRunningError(prev.pid, stateDir);
      if (prev === 'unreadable') {
        mark = { uncleanPrevious: true, reason: `the run marker ${file} is unreadable` };
      } else if (!alive) {
        mark = { uncleanPrevious: true, reason: `the previous run (pid ${prev.pid}${prev.startedAt ? `, started ${prev.startedAt}` : ''}) ended without a clean stop` };
      }
      await takeOver(file, text);
    }
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(stateDir);
  const pending = await readPending(pendingPath(stateDir, run));
  if (!mark.uncleanPrevious && pending.kind === 'corrupt') {
    mark = { ...mark, uncleanPrevious: true, reason: `the saved pending changes are corrupt (${pending.error})` };
  }
  return mark;
}

/** Move a dead owner's marker out of the way; put it back if a racer's live one was moved instead. */
async function takeOver(file: string, judged: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => judged);
  if (moved !== judged) await link(aside, file).catch(() => {});
  await rm(aside, { force: true });
}

/** Remove the marker if it is ours (another instance's marker is left for it to remove). */
export async function markStopped(stateDir: string, run?: string): Promise<void> {
  const file = runningPath(stateDir, run);
  const owner = await readOwner(file);
  if (owner === 'missing') return;
  if (owner !== 'unreadable' && owner.pid !== process.pid) return;
  await rm(file, { force: true });
  await fsyncDir(stateDir);
}
