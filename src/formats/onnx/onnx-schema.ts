/**
 * The part of the ONNX protobuf schema this project reads and writes, as a protobufjs JSON
 * descriptor (for `Root.fromJSON`). Embedded as a module, not loaded from a .proto file, so it works
 * unchanged from src/ under vitest and from dist/ after tsc.
 *
 * Transcribed from onnx.proto (proto2) of ONNX 1.12 as shipped by Debian's python3-onnx
 * (/usr/lib/python3/dist-packages/onnx/onnx.proto). Field names and numbers are the official ones:
 * test/formats/onnx.test.ts compares every field with fixtures/onnx/official-schema.json, recorded
 * from the onnx package's own descriptors by scripts/make_onnx_schema_fixture.py. Messages left out
 * (TrainingInfoProto, FunctionProto, TensorAnnotation) are skipped as unknown fields on decode.
 */
import type { INamespace, IType } from 'protobufjs';

const packed = { packed: true } as const;

const MESSAGES: Record<string, IType> = {
  AttributeProto: {
    fields: {
      name: { type: 'string', id: 1 },
      ref_attr_name: { type: 'string', id: 21 },
      doc_string: { type: 'string', id: 13 },
      type: { type: 'AttributeType', id: 20 },
      f: { type: 'float', id: 2 },
      i: { type: 'int64', id: 3 },
      s: { type: 'bytes', id: 4 },
      t: { type: 'TensorProto', id: 5 },
      g: { type: 'GraphProto', id: 6 },
      sparse_tensor: { type: 'SparseTensorProto', id: 22 },
      tp: { type: 'TypeProto', id: 14 },
      floats: { rule: 'repeated', type: 'float', id: 7 },
      ints: { rule: 'repeated', type: 'int64', id: 8 },
      strings: { rule: 'repeated', type: 'bytes', id: 9 },
      tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
      graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
      sparse_tensors: { rule: 'repeated', type: 'SparseTensorProto', id: 23 },
      type_protos: { rule: 'repeated', type: 'TypeProto', id: 15 },
    },
    nested: {
      AttributeType: {
        values: {
          UNDEFINED: 0,
          FLOAT: 1,
          INT: 2,
          STRING: 3,
          TENSOR: 4,
          GRAPH: 5,
          SPARSE_TENSOR: 11,
          TYPE_PROTO: 13,
          FLOATS: 6,
          INTS: 7,
          STRINGS: 8,
          TENSORS: 9,
          GRAPHS: 10,
          SPARSE_TENSORS: 12,
          TYPE_PROTOS: 14,
        },
      },
    },
  },
  ValueInfoProto: {
    fields: {
      name: { type: 'string', id: 1 },
      type: { type: 'TypeProto', id: 2 },
      doc_string: { type: 'string', id: 3 },
    },
  },
  NodeProto: {
    fields: {
      input: { rule: 'repeated', type: 'string', id: 1 },
      output: { rule: 'repeated', type: 'string', id: 2 },
      name: { type: 'string', id: 3 },
      op_type: { type: 'string', id: 4 },
      domain: { type: 'string', id: 7 },
      attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
      doc_string: { type: 'string', id: 6 },
    },
  },
  ModelProto: {
    fields: {
      ir_version: { type: 'int64', id: 1 },
      opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
      producer_name: { type: 'string', id: 2 },
      producer_version: { type: 'string', id: 3 },
      domain: { type: 'string', id: 4 },
      model_version: { type: 'int64', id: 5 },
      doc_string: { type: 'string', id: 6 },
      graph: { type: 'GraphProto', id: 7 },
      metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
    },
  },
  StringStringEntryProto: {
    fields: {
      key: { type: 'string', id: 1 },
      value: { type: 'string', id: 2 },
    },
  },
  GraphProto: {
    fields: {
      node: { rule: 'repeated', type: 'NodeProto', id: 1 },
      name: { type: 'string', id: 2 },
      initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
      sparse_initializer: { rule: 'repeated', type: 'SparseTensorProto', id: 15 },
      doc_string: { type: 'string', id: 10 },
      input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
      output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
      value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
    },
  },
  TensorProto: {
    fields: {
      dims: { rule: 'repeated', type: 'int64', id: 1 },
      data_type: { type: 'int32', id: 2 },
      segment: { type: 'Segment', id: 3 },
      float_data: { rule: 'repeated', type: 'float', id: 4, options: packed },
      int32_data: { rule: 'repeated', type: 'int32', id: 5, options: packed },
      string_data: { rule: 'repeated', type: 'bytes', id: 6 },
      int64_data: { rule: 'repeated', type: 'int64', id: 7, options: packed },
      name: { type: 'string', id: 8 },
      doc_string: { type: 'string', id: 12 },
      raw_data: { type: 'bytes', id: 9 },
      external_data: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
      data_location: { type: 'DataLocation', id: 14 },
      double_data: { rule: 'repeated', type: 'double', id: 10, options: packed },
      uint64_data: { rule: 'repeated', type: 'uint64', id: 11, options: packed },
    },
    nested: {
      DataType: {
        values: {
          UNDEFINED: 0,
          FLOAT: 1,
          UINT8: 2,
          INT8: 3,
          UINT16: 4,
          INT16: 5,
          INT32: 6,
          INT64: 7,
          STRING: 8,
          BOOL: 9,
          FLOAT16: 10,
          DOUBLE: 11,
          UINT32: 12,
          UINT64: 13,
          COMPLEX64: 14,
          COMPLEX128: 15,
          BFLOAT16: 16,
        },
      },
      Segment: {
        fields: {
          begin: { type: 'int64', id: 1 },
          end: { type: 'int64', id: 2 },
        },
      },
      DataLocation: {
        values: { DEFAULT: 0, EXTERNAL: 1 },
      },
    },
  },
  SparseTensorProto: {
    fields: {
      values: { type: 'TensorProto', id: 1 },
      indices: { type: 'TensorProto', id: 2 },
      dims: { rule: 'repeated', type: 'int64', id: 3 },
    },
  },
  TensorShapeProto: {
    fields: {
      dim: { rule: 'repeated', type: 'Dimension', id: 1 },
    },
    nested: {
      Dimension: {
        oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
        fields: {
          dim_value: { type: 'int64', id: 1 },
          dim_param: { type: 'string', id: 2 },
          denotation: { type: 'string', id: 3 },
        },
      },
    },
  },
  TypeProto: {
    oneofs: {
      value: { oneof: ['tensor_type', 'sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type'] },
    },
    fields: {
      tensor_type: { type: 'Tensor', id: 1 },
      sequence_type: { type: 'Sequence', id: 4 },
      map_type: { type: 'Map', id: 5 },
      optional_type: { type: 'Optional', id: 9 },
      sparse_tensor_type: { type: 'SparseTensor', id: 8 },
      denotation: { type: 'string', id: 6 },
    },
    nested: {
      Tensor: {
        fields: {
          elem_type: { type: 'int32', id: 1 },
          shape: { type: 'TensorShapeProto', id: 2 },
        },
      },
      Sequence: {
        fields: {
          elem_type: { type: 'TypeProto', id: 1 },
        },
      },
      Map: {
        fields: {
          key_type: { type: 'int32', id: 1 },
          value_type: { type: 'TypeProto', id: 2 },
        },
      },
      Optional: {
        fields: {
          elem_type: { type: 'TypeProto', id: 1 },
        },
      },
      SparseTensor: {
        fields: {
          elem_type: { type: 'int32', id: 1 },
          shape: { type: 'TensorShapeProto', id: 2 },
        },
      },
    },
  },
  OperatorSetIdProto: {
    fields: {
      domain: { type: 'string', id: 1 },
      version: { type: 'int64', id: 2 },
    },
  },
};

/**
 * protobufjs reads a JSON message without an `edition` as proto3 (packing every repeated scalar);
 * onnx.proto is proto2, where only fields marked [packed = true] are packed.
 */
function asProto2(messages: Record<string, IType>): Record<string, IType> {
  return Object.fromEntries(Object.entries(messages).map(([name, type]) => [name, { ...type, edition: 'proto2' }]));
}

export const ONNX_SCHEMA: INamespace = { nested: { onnx: { nested: asProto2(MESSAGES) } } };
