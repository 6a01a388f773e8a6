import type { DType, Weights } from '../tensor.js';

export type WeightFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch' | 'onnx' | 'npy';

/** What a file says about one tensor, known without reading its data. */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: number;
}

/** A weight file read whole: its tensors in file order plus its string metadata. */
export interface WeightFile {
  file: string;
  format: WeightFormat;
  metadata: Record<string, string>;
  weights: Weights;
}
