/**
 * The files that hold an ONNX model's external data. A location from the (untrusted) model may
 * reach outside the model's folder through a symlink even when it reads as a plain relative path,
 * so each file is resolved to its real path, which must lie inside the folder's real path, and
 * opened through the bounded InputFile; every tensor's byte range must lie inside its file.
 */
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { check, FormatError } from '../errors.js';
import { InputFile } from '../input-file.js';
import type { OnnxExternalData } from './external-data.js';

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

export class ExternalDataFiles {
  /** Opened files by the location the model wrote, each opened once. */
  private readonly opened = new Map<string, Promise<InputFile>>();

  /** `modelFile` names every error: the model is what is wrong when its external data is. */
  constructor(private readonly modelFile: string) {}

  private async realPath(path: string, location: string, what: string): Promise<string> {
    try {
      return await fs.realpath(path);
    } catch (err) {
      throw new FormatError(this.modelFile, `${what} keeps its data in ${JSON.stringify(location)}, which cannot be read (${errorCode(err)})`);
    }
  }

  private async open(location: string, what: string): Promise<InputFile> {
    const folder = await this.realPath(dirname(this.modelFile), location, what);
    const real = await this.realPath(resolve(dirname(this.modelFile), location), location, what);
    const inside = relative(folder, real);
    const outside = (): string => `${what} keeps its data in ${JSON.stringify(location)}, which resolves to ${real}, outside the model's folder ${folder}`;
    check(inside !== '' && !inside.startsWith('..') && !isAbsolute(inside), this.modelFile, outside);
    const input = await InputFile.open(real);
    // The path may have been swapped for a symlink between realpath and open: what counts is the file opened.
    const again = await fs.stat(real).catch(() => undefined);
    if (again === undefined || `${again.dev}:${again.ino}` !== input.identity || (await this.realPath(real, location, what)) !== real) {
      await input.close();
      throw new FormatError(this.modelFile, `${what}: external data file ${JSON.stringify(location)} changed while it was opened`);
    }
    return input;
  }

  private file(data: OnnxExternalData, what: string): Promise<InputFile> {
    let file = this.opened.get(data.location);
    if (file === undefined) {
      file = this.open(data.location, what);
      this.opened.set(data.location, file);
    }
    return file;
  }

  /** Opens the tensor's file (once per file) and checks that its byte range lies inside it. */
  async check(data: OnnxExternalData, what: string): Promise<void> {
    const input = await this.file(data, what);
    const { location, offset, length } = data;
    check(
      offset + length <= input.size,
      this.modelFile,
      () => `${what}: external data bytes ${offset} to ${offset + length} run past the end of ${JSON.stringify(location)} (${input.size} bytes)`,
    );
    check(
      data.lengthGiven || offset + length === input.size,
      this.modelFile,
      () =>
        `${what}: external data from byte ${offset} to the end of ${JSON.stringify(location)} is ${input.size - offset} bytes, not the ${length} its shape needs`,
    );
  }

  /** `byteLength` bytes from `byteOffset` into the tensor's data; `check` must have passed. */
  async read(data: OnnxExternalData, byteOffset: number, byteLength: number, what: string): Promise<Uint8Array> {
    const inside =
      Number.isSafeInteger(byteOffset) && Number.isSafeInteger(byteLength) && byteOffset >= 0 && byteLength >= 0 && byteOffset + byteLength <= data.length;
    if (!inside) throw new RangeError(`${this.modelFile}: bytes [${byteOffset}, ${byteOffset}+${byteLength}) are outside the ${data.length} bytes of ${what}`);
    const input = await this.file(data, what);
    return input.read(data.offset + byteOffset, byteLength, `${what} (external data)`);
  }

  async close(): Promise<void> {
    const files = [...this.opened.values()];
    this.opened.clear();
    for (const file of files) await file.then((f) => f.close()).catch(() => undefined);
  }
}
