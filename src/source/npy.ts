/** A .npy file as a model source of one tensor, named after the file; rows are read by byte range. */
import { basename, extname } from 'node:path';
import { InputFile } from '../formats/input-file.js';
import { MAX_NPY_HEADER_BYTES, parseNpyHeader } from '../formats/npy.js';
import { byteRangeReader, elementEntry, ListedSource, type SourceOrigin } from './listed-source.js';
import type { ModelSource } from './types.js';

/** Magic (6), version (2), header length (up to 4), then the header. */
const MAX_NPY_PREFIX_BYTES = 12 + MAX_NPY_HEADER_BYTES;

export async function openNpySource(origin: SourceOrigin): Promise<ModelSource> {
  const { file } = origin;
  const input = await InputFile.open(file);
  try {
    const { dtype, shape, dataStart, dataBytes } = parseNpyHeader(await input.head(MAX_NPY_PREFIX_BYTES), input.size, file);
    const name = basename(file, extname(file));
    const tensor = { name, dtype, shape, bytes: dataBytes };
    const read = (offset: number, length: number): Promise<Uint8Array> =>
      input.read(dataStart + offset, length, `bytes ${offset}..${offset + length} of the array`);
    const entry = elementEntry(tensor, dtype, byteRangeReader(dtype, read));
    return new ListedSource({ ...origin, format: 'npy', metadata: {}, entries: [entry], close: () => input.close() });
  } catch (err) {
    await input.close();
    throw err;
  }
}
