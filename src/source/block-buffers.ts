/**
 * Reusable buffers for blocks of rows decoded to float32. A streamed comparison reads thousands of
 * blocks of the same few sizes; a fresh buffer for each costs a page fault per 4 KiB touched, which
 * made allocation, not arithmetic, most of the time on bf16 checkpoints. A reader that is done with
 * a block hands it back with recycleFloat32, and the next block of that size reuses its memory.
 *
 * Only buffers made here are taken back, so handing back any other array (a view of a file's
 * bytes, a tensor a source keeps) does nothing. A block handed back must not be used again.
 */

/** Spare buffers kept: two models, several block sizes each (full blocks and each tensor shape's last one). */
const SPARE_LIMIT = 16;
/** Larger blocks (a single row over 16 MiB, a caller's own block size) are left to the collector, so spares stay under 256 MiB. */
const SPARE_MAX_BYTES = 16 << 20;
const spares: ArrayBuffer[] = [];
const made = new WeakSet<ArrayBuffer>();

/** A buffer of exactly `byteLength` bytes, reused when one was handed back; its contents are stale. */
export function blockBuffer(byteLength: number): ArrayBuffer {
  const i = spares.findIndex((b) => b.byteLength === byteLength);
  if (i >= 0) return spares.splice(i, 1)[0];
  const buffer = new ArrayBuffer(byteLength);
  made.add(buffer);
  return buffer;
}

/** Hands a block back for reuse; the caller must not read it afterwards. */
export function recycleFloat32(values: Float32Array): void {
  const { buffer } = values;
  if (!(buffer instanceof ArrayBuffer) || !made.has(buffer) || buffer.byteLength > SPARE_MAX_BYTES || spares.includes(buffer)) return;
  spares.push(buffer);
  if (spares.length > SPARE_LIMIT) spares.shift();
}
