/**
 * DIR/.lock: one zoo build at a time writes a folder. The lock file holds its owner as JSON
 * {pid, hostname, startTime, nonce} and comes into being complete: it is written under a temp name
 * and hard-linked to .lock, which fails if .lock exists, so no build ever sees an empty lock.
 *
 * A lock is stale when its owner is gone: no process with that pid, or (Linux) a process whose start
 * time differs from the one recorded, i.e. the pid was reused. An empty or unreadable lock is never
 * stale (no build of ours writes one), and neither is a lock of another host (its processes cannot
 * be seen from here). A build removes only its own lock; see breakStaleLock for taking one over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isIntegerAtLeast, isJsonObject } from '../base/validate.js';
import { InputError } from '../base/errors.js';

export const LOCK_FILE = '.lock';

export interface LockOwner {
  pid: number;
  hostname: string;
  /** Start of the process in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  startTime: string | null;
  /** Tells two locks of one process apart, so a build never removes a later lock as its own. */
  nonce: string;
}

/** Field 22 of /proc/<pid>/stat, or null where there is no /proc or no such process. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // field 2, the command name, is in parentheses and may itself hold spaces and ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's owner, or a description of what is wrong with the file. */
function parseOwner(text: string): LockOwner | string {
  // builds before locks held JSON wrote the bare pid (pid 0 would signal our own process group)
  if (/^\d+$/.test(text.trim())) {
    const pid = Number(text.trim());
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, hostname: hostname(), startTime: null, nonce: '' } : 'holds no owner';
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `holds ${text.length === 0 ? 'nothing' : 'no owner'}`;
  }
  if (!isJsonObject(v) || !isIntegerAtLeast(v.pid, 1) || typeof v.hostname !== 'string' || (v.startTime !== null && typeof v.startTime !== 'string')) {
    return 'holds no owner';
  }
  return { pid: v.pid, hostname: v.hostname, startTime: v.startTime ?? null, nonce: typeof v.nonce === 'string' ? v.nonce : '' };
}

/** Why `owner` no longer holds its lock, or undefined while it does (or we cannot tell). */
function staleness(owner: LockOwner): string | undefined {
  if (owner.hostname !== hostname()) return undefined;
  if (!isAlive(owner.pid)) return `pid ${owner.pid} is not running`;
  const now = processStartTime(owner.pid);
  if (owner.startTime !== null && now !== null && now !== owner.startTime) {
    return `pid ${owner.pid} now belongs to a process started later (start time ${now}, not ${owner.startTime})`;
  }
  return undefined;
}

/** `.lock.<pid>.<hex>.tmp`: the builder's clean-up of killed builds' temp files removes leftovers. */
function tempName(dir: string): string {
  return join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether `name` is a lock temp file (tempName) of a running process: a clean-up must spare it. */
export function isLockTempInUse(name: string): boolean {
  const pid = /^\.lock\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)?.[1];
  return pid !== undefined && isAlive(Number(pid));
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Creates `target` holding `text` unless it exists: written under a temp name and hard-linked,
 * so the file is never seen half written. False when `target` exists.
 */
async function createComplete(target: string, text: string): Promise<boolean> {
  for (;;) {
    const temp = tempName(dirname(target));
    await fs.writeFile(temp, text, { flag: 'wx' });
    try {
      await fs.link(temp, target);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // the lock holder's clean-up removed the temp file before the link: write it again
      if (code !== 'ENOENT') throw err;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Removes the lock if it still holds `staleText`. Builds that found the same stale lock serialise
 * on a guard file named after its content, so only one removes it and none removes the fresh lock
 * a faster build put in its place. A guard left by a build that died while removing is stale in
 * turn, and is removed. `mine` is this build's owner text, written into the guard.
 */
async function breakStaleLock(lock: string, staleText: string, mine: string): Promise<void> {
  const guard = `${lock}.stale-${createHash('sha256').update(staleText).digest('hex').slice(0, 16)}.tmp`;
  if (!(await createComplete(guard, mine))) {
    const text = await readIfPresent(guard);
    if (text === undefined) return;
    const owner = parseOwner(text);
    if (typeof owner === 'string' || staleness(owner) !== undefined) await fs.rm(guard, { force: true });
    else await sleep(20); // another build is removing the stale lock right now
    return;
  }
  try {
    if ((await readIfPresent(lock)) === staleText) await fs.rm(lock, { force: true });
  } finally {
    await removeIfMine(guard, mine);
  }
}

/** Thrown when a live build holds the folder; names the lock file and its owner. */
export function lockHeldError(lock: string, owner: LockOwner): InputError {
  const where = owner.hostname === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.hostname}`;
  return new InputError(lock, `another zoo build (${where}) is writing this folder; wait for it or stop it (remove this file only if no such build runs)`);
}

/**
 * Takes DIR/.lock for this process; returns the function that releases it. A lock held by a live
 * process (or one on another host, whose liveness cannot be checked here) is an InputError naming
 * the lock file and the owner's pid; a stale lock is taken over, after telling `onStale` why.
 */
export async function acquireZooLock(dir: string, onStale?: (message: string) => void): Promise<() => Promise<void>> {
  const lock = join(dir, LOCK_FILE);
  const mine: LockOwner = { pid: process.pid, hostname: hostname(), startTime: processStartTime(process.pid), nonce: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(mine)}\n`;
  const told = new Set<string>();
  // each round either takes the lock, fails, or sees a stale lock removed (or being removed)
  for (let round = 0; round < 100; round++) {
    if (await createComplete(lock, text)) return () => removeIfMine(lock, text);
    const held = await readIfPresent(lock);
    if (held === undefined) continue;
    const owner = parseOwner(held);
    if (typeof owner === 'string') throw new InputError(lock, `${owner}, so its build cannot be checked; remove it if no zoo build is writing this folder`);
    const stale = staleness(owner);
    if (stale === undefined) throw lockHeldError(lock, owner);
    if (!told.has(held)) onStale?.(`${lock}: taking over the lock of an earlier build (${stale})`);
    told.add(held);
    await breakStaleLock(lock, held, text);
  }
  throw new InputError(lock, 'cannot take the lock: it keeps changing (many builds starting at once?)');
}

/** Removes a lock (or guard) file only while it is still the one this build wrote. */
async function removeIfMine(path: string, text: string): Promise<void> {
  if ((await readIfPresent(path)) === text) await fs.rm(path, { force: true });
}
