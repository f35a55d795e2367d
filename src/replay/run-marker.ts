/**
 * The unclean-stop marker: `<stateDir>/running` exists while a daemon runs and is removed by a
 * clean stop. Found at start with its owner gone = the previous run was killed, crashed or lost
 * power, so events were missed and the caller catches up with a full sync.
 *
 * "Owner gone" is not just "pid not alive": after a reboot the old pid is often reused (services
 * start in a similar order), so the marker also holds the boot id and the process start time
 * (Linux /proc; where absent, the pid alone decides).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** Another live process holds the marker (two daemons on one state dir). */
  readonly otherInstance?: number;
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

/** The marker file of a run (`run`: see pendingPath). */
export const runningPath = (stateDir: string, run?: string) => join(stateDir, run ? `${RUNNING_FILE}.${run}` : RUNNING_FILE);

export async function markRunning(stateDir: string, run?: string): Promise<RunMark> {
  await ensureDir(stateDir);
  const file = runningPath(stateDir, run);
  const prev = await readOwner(file);
  let mark: RunMark = { uncleanPrevious: false };
  if (prev === 'unreadable') {
    mark = { uncleanPrevious: true, reason: `the run marker ${file} is unreadable` };
  } else if (prev !== 'missing') {
    if (!(await ownerAlive(prev))) {
      mark = { uncleanPrevious: true, reason: `the previous run (pid ${prev.pid}${prev.startedAt ? `, started ${prev.startedAt}` : ''}) ended without a clean stop` };
    } else if (prev.pid !== process.pid) {
      mark = { uncleanPrevious: false, otherInstance: prev.pid };
    }
  }
  const pending = await readPending(pendingPath(stateDir, run));
  if (!mark.uncleanPrevious && pending.kind === 'corrupt') {
    mark = { ...mark, uncleanPrevious: true, reason: `the saved pending changes are corrupt (${pending.error})` };
  }
  const owner: Owner = { pid: process.pid, bootId: await bootId(), startTicks: await startTicks(process.pid), startedAt: new Date().toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(owner)}\n`);
  return mark;
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
