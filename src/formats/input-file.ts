/**
 * The one way readers open a model file. A path may name anything: a symlink to /dev/zero, a FIFO
 * that never ends, a file that grows while it is read. So an input must be a regular file (after
 * following symlinks), and no more bytes are read than `stat` reported when it was opened: reading
 * a file of S bytes costs at most S bytes of memory and O(S) time, whatever the path points to.
 */
import { constants, promises as fs, readSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FormatError } from './errors.js';

/** fs reads are capped at 2 GiB - 1 per call, so bigger reads go in pieces. */
const MAX_READ_CHUNK = 1 << 30;

/**
 * O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer (which would hang
 * before the regular-file check could run); it changes nothing for regular files. 0 where absent.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function openFailure(path: string, err: unknown): FormatError {
  const code = errorCode(err);
  if (code === 'EISDIR') return new FormatError(path, 'is a folder, not a file');
  return new FormatError(path, `cannot read file (${code})`);
}

/** What a non-regular file is, for the error message. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws unless `stats` (taken after following symlinks) describe a regular file. */
export function checkRegularFile(stats: Stats, path: string): void {
  if (stats.isFile()) return;
  if (stats.isDirectory()) throw new FormatError(path, 'is a folder, not a file');
  throw new FormatError(path, `is ${kindOf(stats)}, not a regular file; refusing to read it`);
}

/** `stat` after following symlinks, with failures as a FormatError naming the path. */
export async function statInput(path: string): Promise<Stats> {
  try {
    return await fs.stat(path);
  } catch (err) {
    throw openFailure(path, err);
  }
}

/** A regular input file opened for reading, bounded by the size it had when opened. */
export class InputFile {
  readonly path: string;
  /** Bytes, as `fstat` reported on open; nothing past this is ever read. */
  readonly size: number;
  /** Device and inode: equal for two paths that reach the same file (symlinks, hard links). */
  readonly identity: string;
  private handle: FileHandle | undefined;

  private constructor(path: string, handle: FileHandle, stats: Stats) {
    this.path = path;
    this.handle = handle;
    this.size = stats.size;
    this.identity = `${stats.dev}:${stats.ino}`;
  }

  /** Opens `path`, refusing folders, devices, FIFOs and sockets before reading a byte. */
  static async open(path: string): Promise<InputFile> {
    // stat first so a device or FIFO is refused without opening it at all.
    checkRegularFile(await statInput(path), path);
    let handle: FileHandle;
    try {
      handle = await fs.open(path, OPEN_FLAGS);
    } catch (err) {
      throw openFailure(path, err);
    }
    try {
      // The path may have been swapped since the stat: what counts is the file actually opened.
      const stats = await handle.stat();
      checkRegularFile(stats, path);
      return new InputFile(path, handle, stats);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Fills `target` with the bytes at `position`; `what` names them in errors. Refuses a range past
   * the size seen on open, and fails clearly if the file has shrunk since.
   */
  async readInto(target: Uint8Array, position: number, what: string): Promise<void> {
    const handle = this.openHandle(target, position, what);
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(target.byteLength - done, MAX_READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(target, done, length, position + done));
      } catch (err) {
        throw new FormatError(this.path, `cannot read ${what} (${errorCode(err)})`);
      }
      done += this.checkProgress(bytesRead, position + done, what);
    }
  }

  /**
   * readInto, blocking the thread while it reads: for synchronous parsers (the zip directory
   * reader) that need a few small pieces of a file too big to hold whole.
   */
  readIntoSync(target: Uint8Array, position: number, what: string): void {
    const handle = this.openHandle(target, position, what);
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(target.byteLength - done, MAX_READ_CHUNK);
      let bytesRead: number;
      try {
        bytesRead = readSync(handle.fd, target, done, length, position + done);
      } catch (err) {
        throw new FormatError(this.path, `cannot read ${what} (${errorCode(err)})`);
      }
      done += this.checkProgress(bytesRead, position + done, what);
    }
  }

  /** The handle, once the range is known to lie inside the size seen on open. */
  private openHandle(target: Uint8Array, position: number, what: string): FileHandle {
    const handle = this.handle;
    if (handle === undefined) throw new FormatError(this.path, 'file is already closed');
    if (position + target.byteLength > this.size) {
      throw new FormatError(this.path, `${what} (bytes ${position} to ${position + target.byteLength}) runs past the end of the ${this.size}-byte file`);
    }
    return handle;
  }

  /** A read that returns nothing before the size seen on open means the file has shrunk. */
  private checkProgress(bytesRead: number, reached: number, what: string): number {
    if (bytesRead === 0) {
      throw new FormatError(this.path, `file ended after ${reached} bytes while reading ${what} (truncated or changed since it was opened?)`);
    }
    return bytesRead;
  }

  /** Reads `length` bytes at `position` into a fresh, 8-byte aligned buffer. */
  async read(position: number, length: number, what: string): Promise<Uint8Array> {
    const bytes = allocateInputBuffer(length, this.path, what);
    await this.readInto(bytes, position, what);
    return bytes;
  }

  /** Reads up to `length` bytes from the start: fewer when the file is shorter. */
  async head(length: number): Promise<Uint8Array> {
    return this.read(0, Math.min(length, this.size), 'the first bytes');
  }

  /** The whole file, as it was when opened. */
  async readAll(): Promise<Uint8Array> {
    return this.read(0, this.size, 'the file');
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/**
 * A zeroed buffer of `byteLength` bytes on its own ArrayBuffer (offset 0, so typed-array views of
 * it are aligned); a size the runtime cannot allocate is a FormatError, not a RangeError.
 */
export function allocateInputBuffer(byteLength: number, file: string, what: string): Uint8Array {
  try {
    // A Buffer, as fs.readFile gave: protobufjs reads strings from a Buffer faster.
    return Buffer.alloc(byteLength);
  } catch {
    try {
      return new Uint8Array(new ArrayBuffer(byteLength));
    } catch {
      throw new FormatError(file, `${what} needs ${byteLength} bytes, more than can be allocated`);
    }
  }
}

/** Opens `path` as an InputFile, runs `use` on it and closes it, whatever happens. */
export async function withInputFile<T>(path: string, use: (file: InputFile) => Promise<T>): Promise<T> {
  const file = await InputFile.open(path);
  try {
    return await use(file);
  } finally {
    await file.close();
  }
}

/** Reads a whole regular file, never more than the size it had when opened. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  return withInputFile(path, (file) => file.readAll());
}
