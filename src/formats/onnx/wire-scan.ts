/**
 * One pass over ONNX protobuf bytes before protobufjs decodes them, to bound what decoding costs.
 * protobufjs turns every message into a JS object with an empty array per repeated field, so a
 * 2-byte empty NodeProto becomes ~200 bytes: a 10 MB file of them took ~1 GB. The pass walks the
 * wire format with an explicit stack (no recursion), allocates nothing per field, and refuses:
 *   - malformed wire data (a length past its enclosing message, a varint over 10 bytes, groups,
 *     a known field with the wrong wire type, which protobufjs would silently misread);
 *   - messages nested deeper than protobuf's own default limit;
 *   - a graph structure (everything but tensor values) estimated to decode to more than
 *     MAX_ONNX_STRUCTURE_BYTES;
 *   - a tensor holding more values than its dims declare, so tensor values cost at most a small
 *     constant times the tensor's declared size.
 */
import protobuf from 'protobufjs';
import { FormatError } from '../errors.js';
import { ModelProtoType } from './onnx-proto.js';

/** Estimated JS memory for everything but tensor values; real graphs need a few MB. */
export const MAX_ONNX_STRUCTURE_BYTES = 256 * 1024 * 1024;
/** protoc's CodedInputStream default recursion limit, which protobufjs also applies. */
export const MAX_ONNX_NESTING = 100;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/**
 * Rough V8 costs on 64-bit of what protobufjs makes, checked against the resident memory of
 * `lineage inspect` on files just under the budget (about 1.3x to 2x the estimate, all told).
 */
const COST = {
  /** A decoded message object, before its fields. */
  message: 64,
  /** Each field slot of a message object, and each empty array protobufjs gives a repeated field. */
  field: 8,
  repeatedField: 32,
  /** An element of a repeated scalar (a Long object for int64 fields). */
  number: 8,
  long: 56,
  /** A string or a bytes view, plus its characters. */
  string: 48,
  bytesView: 120,
} as const;

type ScalarKind = 'varint' | 'long' | 'fixed32' | 'fixed64' | 'string' | 'bytes';

interface FieldLayout {
  name: string;
  repeated: boolean;
  kind: ScalarKind | 'message';
  message?: MessageLayout;
  /** One of TensorProto's value fields: counted against its dims instead of the budget. */
  tensorValues: boolean;
}

interface MessageLayout {
  name: string;
  fields: Map<number, FieldLayout>;
  /** What protobufjs allocates for an empty one. */
  cost: number;
  isTensor: boolean;
}

const TENSOR_TYPE = 'onnx.TensorProto';
const TENSOR_DIMS = 1;
const TENSOR_NAME = 8;
/** TensorProto fields that hold the values: float, int32, int64, double and uint64 data. */
const TENSOR_VALUE_FIELDS = new Set([4, 5, 7, 10, 11]);

function scalarKind(type: string, resolved: protobuf.ReflectionObject | null): ScalarKind {
  if (resolved instanceof protobuf.Enum) return 'varint';
  switch (type) {
    case 'int64':
    case 'uint64':
    case 'sint64':
      return 'long';
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return 'fixed64';
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return 'fixed32';
    case 'string':
      return 'string';
    case 'bytes':
      return 'bytes';
    default:
      return 'varint';
  }
}

const layouts = new Map<protobuf.Type, MessageLayout>();

/** The layout of a message type, from protobufjs's own reflection of the schema (built once). */
function layoutOf(type: protobuf.Type): MessageLayout {
  const known = layouts.get(type);
  if (known) return known;
  const isTensor = type.fullName.replace(/^\./, '') === TENSOR_TYPE;
  const layout: MessageLayout = { name: type.name, fields: new Map(), cost: COST.message, isTensor };
  layouts.set(type, layout); // before the fields: message types refer to each other
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    const isMessage = resolved instanceof protobuf.Type;
    layout.fields.set(field.id, {
      name: field.name,
      repeated: field.repeated,
      kind: isMessage ? 'message' : scalarKind(field.type, resolved),
      message: isMessage ? layoutOf(resolved) : undefined,
      tensorValues: isTensor && TENSOR_VALUE_FIELDS.has(field.id),
    });
    layout.cost += field.repeated ? COST.field + COST.repeatedField : 0;
  }
  return layout;
}

const PACKABLE = new Set<FieldLayout['kind']>(['varint', 'long', 'fixed32', 'fixed64']);

function expectedWire(kind: FieldLayout['kind']): number {
  switch (kind) {
    case 'varint':
    case 'long':
      return WIRE_VARINT;
    case 'fixed64':
      return WIRE_FIXED64;
    case 'fixed32':
      return WIRE_FIXED32;
    default:
      return WIRE_LENGTH;
  }
}

/** What one TensorProto declares and holds, gathered while its bytes go by. */
interface TensorTally {
  /** Product of dims so far, as a float clamped to 2^64 (so a later 0 gives 0, never NaN). */
  declared: number;
  values: number;
  nameStart: number;
  nameEnd: number;
}

function declareDim(tally: TensorTally, dim: number): void {
  tally.declared = Math.min(tally.declared * dim, 2 ** 64);
}

interface Frame {
  layout: MessageLayout;
  end: number;
  tensor: TensorTally | undefined;
}

class WireScanner {
  private pos = 0;
  private structureBytes = 0;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {}

  scan(): void {
    this.enter(layoutOf(ModelProtoType), this.bytes.length);
    while (this.stack.length > 0) {
      const frame = this.stack[this.stack.length - 1];
      if (this.pos === frame.end) this.leave(frame);
      else this.field(frame);
    }
  }

  private fail(problem: string): never {
    throw new FormatError(this.file, `not a valid ONNX protobuf (${problem} at byte ${this.pos})`);
  }

  private enter(layout: MessageLayout, end: number): void {
    if (this.stack.length >= MAX_ONNX_NESTING) this.fail(`messages nested deeper than ${MAX_ONNX_NESTING} levels`);
    this.charge(layout.cost);
    const tensor = layout.isTensor ? { declared: 1, values: 0, nameStart: 0, nameEnd: 0 } : undefined;
    this.stack.push({ layout, end, tensor });
  }

  private leave(frame: Frame): void {
    this.stack.pop();
    const tally = frame.tensor;
    if (tally && tally.values > tally.declared) {
      const name = new TextDecoder().decode(this.bytes.subarray(tally.nameStart, tally.nameEnd));
      const what = name === '' ? `the unnamed tensor ending at byte ${this.pos}` : `tensor '${name}'`;
      throw new FormatError(this.file, `${what} holds ${tally.values} values but its dims declare only ${tally.declared}`);
    }
  }

  private charge(bytes: number): void {
    this.structureBytes += bytes;
    if (this.structureBytes > MAX_ONNX_STRUCTURE_BYTES) {
      throw new FormatError(
        this.file,
        `the graph's structure (nodes, names, attributes, shapes) would take more than ${MAX_ONNX_STRUCTURE_BYTES / (1024 * 1024)} MiB of memory to decode (passed at byte ${this.pos}); refusing it`,
      );
    }
  }

  /** Counts repeated scalars: tensor values against the tensor's dims, the rest against the budget. */
  private countValues(frame: Frame, field: FieldLayout, count: number): void {
    if (field.tensorValues && frame.tensor) frame.tensor.values += count;
    else this.charge(count * (field.kind === 'long' ? COST.long : COST.number));
  }

  /**
   * A 32-bit varint (tags, lengths, int32, enums, bools) consumed exactly as protobufjs consumes
   * it: five bytes at most, the fifth's top bits dropped, and a sign-extended tail of five more
   * skipped unread. Anything else would let this pass and protobufjs see different fields.
   */
  private varint32(limit: number): number {
    const { bytes } = this;
    if (limit - this.pos < 5) {
      if (this.pos >= limit) this.fail('truncated varint');
      if (bytes[this.pos] >= 0x80) {
        let value = 0;
        for (let i = 0; i < 4; i++) {
          if (this.pos >= limit) this.fail('truncated varint');
          const b = bytes[this.pos++];
          value = (value | ((b & 0x7f) << (i * 7))) >>> 0;
          if (b < 0x80) return value;
        }
        this.fail('truncated varint');
      }
    }
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const b = bytes[this.pos++];
      value = (value | ((b & 0x7f) << (i * 7))) >>> 0;
      if (b < 0x80) return value;
    }
    const fifth = bytes[this.pos++];
    value = (value | ((fifth & 0x0f) << 28)) >>> 0;
    if (fifth < 0x80) return value;
    if (limit - this.pos < 5) this.fail('truncated varint');
    this.pos += 5;
    return value;
  }

  /** A 64-bit varint (int64, uint64, skipped unknown varints): at most 10 bytes, as a float. */
  private varint64(limit: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= limit) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  private field(frame: Frame): void {
    const limit = frame.end;
    const key = this.varint32(limit);
    const fieldNumber = key >>> 3;
    const wire = key & 7;
    if (fieldNumber === 0) this.fail('field number 0');
    const field = frame.layout.fields.get(fieldNumber);
    const packed = field !== undefined && field.repeated && wire === WIRE_LENGTH && PACKABLE.has(field.kind);
    if (field && !packed && wire !== expectedWire(field.kind)) {
      this.fail(`field '${field.name}' of ${frame.layout.name} has wire type ${wire}, expected ${expectedWire(field.kind)}`);
    }
    switch (wire) {
      case WIRE_VARINT: {
        const value = field?.kind === 'varint' ? this.varint32(limit) : this.varint64(limit);
        if (frame.tensor && fieldNumber === TENSOR_DIMS) declareDim(frame.tensor, value);
        if (field?.repeated) this.countValues(frame, field, 1);
        return;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wire === WIRE_FIXED64 ? 8 : 4;
        if (limit - this.pos < size) this.fail('truncated fixed-size value');
        this.pos += size;
        if (field?.repeated) this.countValues(frame, field, 1);
        return;
      }
      case WIRE_LENGTH: {
        const length = this.varint32(limit);
        if (length > limit - this.pos) this.fail(`field of ${length} bytes runs past the end of its message`);
        const end = this.pos + length;
        if (field?.kind === 'message') {
          this.enter(field.message as MessageLayout, end);
          return;
        }
        if (packed) {
          this.packed(frame, field, fieldNumber, end);
          return;
        }
        if (frame.tensor && fieldNumber === TENSOR_NAME) {
          frame.tensor.nameStart = this.pos;
          frame.tensor.nameEnd = end;
        }
        // Bytes (raw_data among them) come back as views of the file; strings are copied.
        if (field?.kind === 'bytes') this.charge(COST.bytesView);
        else if (field?.kind === 'string') this.charge(COST.string + 2 * length);
        this.pos = end;
        return;
      }
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  private packed(frame: Frame, field: FieldLayout, fieldNumber: number, end: number): void {
    if (field.kind === 'fixed32' || field.kind === 'fixed64') {
      const size = field.kind === 'fixed32' ? 4 : 8;
      const length = end - this.pos;
      if (length % size !== 0) this.fail(`packed field '${field.name}' of ${length} bytes is not a whole number of ${size}-byte values`);
      this.pos = end;
      this.countValues(frame, field, length / size);
      return;
    }
    let count = 0;
    while (this.pos < end) {
      const value = field.kind === 'varint' ? this.varint32(end) : this.varint64(end);
      if (frame.tensor && fieldNumber === TENSOR_DIMS) declareDim(frame.tensor, value);
      count++;
    }
    this.countValues(frame, field, count);
  }
}

/** Protobuf's own limit on a message; bigger ONNX models keep their weights in external files. */
export const MAX_ONNX_FILE_BYTES = 2 ** 31 - 1;

/** Throws a FormatError naming `file` unless decoding `bytes` stays within the bounds above. */
export function scanOnnxWire(bytes: Uint8Array, file: string): void {
  if (bytes.length > MAX_ONNX_FILE_BYTES) {
    throw new FormatError(file, `is ${bytes.length} bytes, more than the 2 GiB a protobuf (and so an ONNX file without external data) can hold`);
  }
  new WireScanner(bytes, file).scan();
}
