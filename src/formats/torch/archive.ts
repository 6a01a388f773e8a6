/**
 * The zip container of `torch.save` (torch >= 1.6): `<name>/data.pkl` describes the object and
 * `<name>/data/<key>` holds each storage's raw little-endian bytes, usually STORED (uncompressed).
 * Storage records are read only when a tensor asks for them, and each at most once.
 */
import { FormatError } from '../errors.js';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

export interface TorchArchive {
  /** The folder every record lives in, e.g. 'archive' or the saved file's stem. */
  name: string;
  dataPkl: Uint8Array;
  /** The bytes of a record under `<name>/data/`, by full record name; undefined when there is none. */
  record(recordName: string): Uint8Array | undefined;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const WANTED = /^[^/]+\/(data\.pkl|byteorder|data\/[^/]+)$/;
const TORCHSCRIPT = /^[^/]+\/(constants\.pkl|code\/)/;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

export function openTorchArchive(bytes: Uint8Array, file: string): TorchArchive {
  const entries = readZipDirectory(bytes, file);
  const byName = new Map<string, ZipEntry>();
  for (const entry of entries) {
    if (!WANTED.test(entry.name)) continue;
    if (entry.method !== 0 && entry.method !== 8) {
      throw new FormatError(file, `zip record ${entry.name} uses compression method ${entry.method}; only stored and deflated records are supported`);
    }
    byName.set(entry.name, entry);
  }
  const pickles = [...byName.keys()].filter((name) => name.endsWith('/data.pkl'));
  if (pickles.length === 0) {
    const shown = entries.slice(0, 5).map((e) => e.name).join(', ') + (entries.length > 5 ? ', ...' : '');
    throw new FormatError(file, `zip archive has no <name>/data.pkl record, so it is not a PyTorch checkpoint (records: ${shown || 'none'})`);
  }
  if (pickles.length > 1) throw new FormatError(file, `zip archive has several data.pkl records (${pickles.join(', ')})`);
  const name = pickles[0].slice(0, -'/data.pkl'.length);
  if (entries.some((e) => TORCHSCRIPT.test(e.name) && e.name.startsWith(`${name}/`))) {
    throw new FormatError(file, 'is a TorchScript archive (torch.jit.save); load it in Python and save model.state_dict() with torch.save');
  }
  const byteorderEntry = byName.get(`${name}/byteorder`);
  if (byteorderEntry && new TextDecoder().decode(readZipEntry(bytes, byteorderEntry, file)).trim() !== 'little') {
    throw new FormatError(file, 'checkpoint was saved on a big-endian machine, which is not supported');
  }
  const dataPkl = readZipEntry(bytes, byName.get(pickles[0]) as ZipEntry, file);

  const prefix = `${name}/data/`;
  const read = new Map<string, Uint8Array>();
  const record = (recordName: string): Uint8Array | undefined => {
    const known = read.get(recordName);
    if (known) return known;
    const entry = recordName.startsWith(prefix) ? byName.get(recordName) : undefined;
    if (!entry) return undefined;
    const data = readZipEntry(bytes, entry, file);
    read.set(recordName, data);
    return data;
  };
  return { name, dataPkl, record };
}
