#!/usr/bin/python3
"""Records the official ONNX protobuf schema as fixtures/onnx/official-schema.json.

Run with Debian's interpreter (python3-onnx): /usr/bin/python3 scripts/make_onnx_schema_fixture.py

The schema is read from the compiled descriptors of the official `onnx` package
(onnx.onnx_ml_pb2, generated from onnx-ml.proto, a superset of onnx.proto), not from our
transcription, so test/formats/onnx.test.ts can check src/formats/onnx/onnx-schema.ts against it in
CI, where the onnx package is not installed. For every message and enum of the `onnx` package
(nested ones included, keyed by full name) it records each field's number, type (the scalar type,
or the full name of a message or enum), label, whether it is packed and the oneof holding it, and
each enum value's number.
"""
import json
import os

import google.protobuf
import onnx
from google.protobuf.descriptor import FieldDescriptor
from onnx import onnx_ml_pb2

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx', 'official-schema.json')

SCALAR_TYPES = {
    getattr(FieldDescriptor, name): name[len('TYPE_'):].lower()
    for name in dir(FieldDescriptor)
    if name.startswith('TYPE_') and name not in ('TYPE_MESSAGE', 'TYPE_ENUM', 'TYPE_GROUP')
}
LABELS = {
    FieldDescriptor.LABEL_OPTIONAL: 'optional',
    FieldDescriptor.LABEL_REQUIRED: 'required',
    FieldDescriptor.LABEL_REPEATED: 'repeated',
}


def field_type(field):
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return field.message_type.full_name
    if field.type == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.full_name
    return SCALAR_TYPES[field.type]


def record_enum(enum, enums):
    enums[enum.full_name] = {value.name: value.number for value in enum.values}


def record_message(message, messages, enums):
    messages[message.full_name] = {
        'fields': {
            field.name: {
                'number': field.number,
                'type': field_type(field),
                'label': LABELS[field.label],
                'packed': field.GetOptions().packed,
                'oneof': field.containing_oneof.name if field.containing_oneof else None,
            }
            for field in message.fields
        }
    }
    for enum in message.enum_types:
        record_enum(enum, enums)
    for nested in message.nested_types:
        record_message(nested, messages, enums)


def main():
    schema_file = onnx_ml_pb2.DESCRIPTOR
    messages, enums = {}, {}
    for message in schema_file.message_types_by_name.values():
        record_message(message, messages, enums)
    for enum in schema_file.enum_types_by_name.values():
        record_enum(enum, enums)
    fixture = {
        'source': f'onnx {onnx.__version__} (Debian python3-onnx), descriptors of onnx.onnx_ml_pb2 '
        f'({schema_file.name}, {schema_file.syntax}), protobuf {google.protobuf.__version__}',
        'generator': 'scripts/make_onnx_schema_fixture.py',
        'package': schema_file.package,
        'messages': messages,
        'enums': enums,
    }
    with open(OUT, 'w') as f:
        json.dump(fixture, f, indent=2)
        f.write('\n')
    print(f'wrote {OUT}: {len(messages)} messages, {len(enums)} enums')


if __name__ == '__main__':
    main()
