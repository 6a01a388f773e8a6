import type { DType, Weights } from '../tensor.js';
import type { GgmlTypeName } from './gguf/types.js';

export type WeightFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch' | 'onnx' | 'npy' | 'gguf';

/** What a file says about one tensor, known without reading its data. */
export interface TensorInfo {
  name: string;
  /** For GGUF tensors, the ggml type as stored (e.g. "Q4_K"); otherwise the tensor's dtype. */
  dtype: DType | GgmlTypeName;
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
