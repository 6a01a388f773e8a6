/**
 * Each unit's weights as one vector: its slices of every member tensor, concatenated, for a and for
 * b (units of b in b's own order: that order is what is being solved). A member's other axis is
 * first put in a's order when it belongs to a group already solved, as weight matching does going
 * forward through a network.
 */
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import type { TensorPair } from '../weights/types.js';
import { inversePermutation, layoutBlocks, layoutShape } from './layout.js';
import type { UnitMember } from './types.js';

/** A member to read, its pair, and b's index map along its other axis (b'[.., k] = b[.., map[k]]), undefined for b's own order. */
export interface FeatureMember {
  member: UnitMember;
  pair: TensorPair;
  otherAxis: Int32Array | undefined;
}

/** n units of `length` values each, row-major, for both models. */
export interface UnitFeatures {
  fa: Float32Array;
  fb: Float32Array;
  length: number;
}

/** Values one unit takes from a member. */
export function unitLength(pair: TensorPair, member: UnitMember): number {
  const { rows, cols } = layoutShape(pair);
  return member.block * (member.axis === 0 ? cols : rows);
}

export async function unitFeatures(
  a: ModelSource,
  b: ModelSource,
  units: number,
  members: readonly FeatureMember[],
  blockBytes: number,
): Promise<UnitFeatures> {
  const lengths = members.map((m) => unitLength(m.pair, m.member));
  const length = lengths.reduce((x, y) => x + y, 0);
  const fa = new Float32Array(units * length);
  const fb = new Float32Array(units * length);
  let offset = 0;
  for (let k = 0; k < members.length; k++) {
    await fill(a, fa, length, offset, members[k], 'a', blockBytes);
    await fill(b, fb, length, offset, members[k], 'b', blockBytes);
    offset += lengths[k];
  }
  return { fa, fb, length };
}

/** Scatters one side of a member into the unit rows of `f`, at `offset` within each unit's `length` values. */
async function fill(
  source: ModelSource,
  f: Float32Array,
  length: number,
  offset: number,
  fm: FeatureMember,
  side: 'a' | 'b',
  blockBytes: number,
): Promise<void> {
  const { member, pair } = fm;
  const { cols } = layoutShape(pair);
  const other = side === 'b' ? fm.otherAxis : undefined;
  // Along rows, b's row r' is what a's order puts at row inv[r'].
  const rowTo = member.axis === 1 && other !== undefined ? inversePermutation(other) : undefined;
  const row = new Float32Array(cols);
  for await (const block of layoutBlocks(source, pair, side, blockBytes)) {
    for (let x = 0; x < block.count; x++) {
      const src = block.values.subarray(x * cols, (x + 1) * cols);
      const r = rowTo === undefined ? block.start + x : rowTo[block.start + x];
      if (member.axis === 0) {
        if (other === undefined) row.set(src);
        else for (let c = 0; c < cols; c++) row[c] = src[other[c]];
        const unit = Math.floor(r / member.block);
        f.set(row, unit * length + offset + (r % member.block) * cols);
      } else {
        scatterColumns(f, length, offset, src, r, member.block);
      }
    }
    recycleFloat32(block.values);
  }
}

/** Row r of a member whose columns are units: column u * block + t goes to unit u's slice at r * block + t. */
function scatterColumns(f: Float32Array, length: number, offset: number, src: Float32Array, r: number, block: number): void {
  const units = src.length / block;
  for (let u = 0; u < units; u++) {
    const dest = u * length + offset + r * block;
    for (let t = 0; t < block; t++) f[dest + t] = src[u * block + t];
  }
}
