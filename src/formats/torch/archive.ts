/**
 * The zip container of `torch.save` (torch >= 1.6): `<name>/data.pkl` describes the object and
 * `<name>/data/<key>` holds each storage's raw little-endian bytes, usually STORED (uncompressed).
 */
import { unzipSync } from 'fflate';
import { FormatError } from '../errors.js';

export interface TorchArchive {
  /** The folder every record lives in, e.g. 'archive' or the saved file's stem. */
  name: string;
  dataPkl: Uint8Array;
  /** Records under `<name>/data/`, by full record name. */
  records: Map<string, Uint8Array>;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
// Deflate cannot expand data by more than about 1032:1; a larger claim is a lie meant to
// make us allocate.
const MAX_DEFLATE_RATIO = 1032;
const WANTED = /^[^/]+\/(data\.pkl|byteorder|data\/[^/]+)$/;
const TORCHSCRIPT = /^[^/]+\/(constants\.pkl|code\/)/;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

interface Declared {
  size: number;
  compression: number;
}

/** Unzips the records a checkpoint needs, checking every size the zip declares. */
function unzipRecords(bytes: Uint8Array, file: string): { names: string[]; files: Map<string, Uint8Array> } {
  const names: string[] = [];
  const declared = new Map<string, Declared>();
  let total = 0;
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(bytes, {
      filter: (entry) => {
        names.push(entry.name);
        if (!WANTED.test(entry.name)) return false;
        if (declared.has(entry.name)) throw new FormatError(file, `zip archive has two records named ${entry.name}`);
        if (entry.compression !== 0 && entry.compression !== 8) {
          throw new FormatError(file, `zip record ${entry.name} uses compression method ${entry.compression}; only stored and deflated records are supported`);
        }
        const limit = entry.compression === 0 ? bytes.length : entry.size * MAX_DEFLATE_RATIO + 1024;
        if (!(entry.originalSize >= 0 && entry.originalSize <= limit) || !(entry.size >= 0 && entry.size <= bytes.length)) {
          throw new FormatError(file, `zip record ${entry.name} declares an impossible size; the archive is corrupt`);
        }
        total += entry.originalSize;
        if (total > bytes.length * MAX_DEFLATE_RATIO + 1024) throw new FormatError(file, 'zip archive declares more data than it can hold; it is corrupt');
        declared.set(entry.name, { size: entry.originalSize, compression: entry.compression });
        return true;
      },
    });
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(file, `corrupt or truncated zip archive (${err instanceof Error ? err.message : String(err)})`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, { size }] of declared) {
    const data = Object.hasOwn(unzipped, name) ? unzipped[name] : undefined;
    // fflate silently shortens a stored record that runs past the end of the file.
    if (!data || data.length !== size) {
      throw new FormatError(file, `zip record ${name} is truncated (${data?.length ?? 0} of ${size} bytes); the archive is corrupt`);
    }
    files.set(name, data);
  }
  return { names, files };
}

export function openTorchArchive(bytes: Uint8Array, file: string): TorchArchive {
  const { names, files } = unzipRecords(bytes, file);
  const pickles = [...files.keys()].filter((name) => name.endsWith('/data.pkl'));
  if (pickles.length === 0) {
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
    throw new FormatError(file, `zip archive has no <name>/data.pkl record, so it is not a PyTorch checkpoint (records: ${shown || 'none'})`);
  }
  if (pickles.length > 1) throw new FormatError(file, `zip archive has several data.pkl records (${pickles.join(', ')})`);
  const name = pickles[0].slice(0, -'/data.pkl'.length);
  if (names.some((n) => TORCHSCRIPT.test(n) && n.startsWith(`${name}/`))) {
    throw new FormatError(file, 'is a TorchScript archive (torch.jit.save); load it in Python and save model.state_dict() with torch.save');
  }
  const byteorder = files.get(`${name}/byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new FormatError(file, 'checkpoint was saved on a big-endian machine, which is not supported');
  }
  const records = new Map<string, Uint8Array>();
  const prefix = `${name}/data/`;
  for (const [recordName, data] of files) if (recordName.startsWith(prefix)) records.set(recordName, data);
  return { name, dataPkl: files.get(pickles[0]) as Uint8Array, records };
}
