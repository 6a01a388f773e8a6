/** Every op of the op table, by name. The type makes a missing op a compile error. */
import type { OpType } from '../../../graph/ops.js';
import { CONSTANT_OPS } from './constant.js';
import { CONV_OPS } from './conv.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { INDEXING_OPS } from './indexing.js';
import { LINEAR_OPS } from './linear.js';
import { LOGIC_OPS } from './logic.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { PAD_OPS } from './pad.js';
import { POOL_OPS } from './pool.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { SHAPE_OPS } from './shape.js';
import type { OpKernel } from './types.js';

export const OP_KERNELS: Record<OpType, OpKernel> = {
  ...ELEMENTWISE_OPS,
  ...LINEAR_OPS,
  ...CONV_OPS,
  ...POOL_OPS,
  ...NORMALIZATION_OPS,
  ...REDUCE_OPS,
  ...SHAPE_OPS,
  ...INDEXING_OPS,
  ...CONSTANT_OPS,
  ...RESIZE_OPS,
  ...PAD_OPS,
  ...LOGIC_OPS,
};
