/** Opcodes that push a constant: None, booleans, integers, floats, strings and bytes. */
import { decimalFloat, decimalInteger, longInteger } from './numbers.js';
import { OP, type OpcodeHandlers } from './opcodes.js';
import { decodeRawUnicodeEscape, decodeStringRepr } from './reader.js';

export const NUMBER_OPS: OpcodeHandlers = {
  [OP.NONE]: (vm) => vm.push(null),
  [OP.NEWTRUE]: (vm) => vm.push(true),
  [OP.NEWFALSE]: (vm) => vm.push(false),
  // Protocol 0 spells booleans as I01 and I00.
  [OP.INT]: (vm) => {
    const text = vm.input.line();
    vm.push(text === '01' ? true : text === '00' ? false : decimalInteger(vm, text));
  },
  [OP.BININT]: (vm) => vm.push(vm.input.i32()),
  [OP.BININT1]: (vm) => vm.push(vm.input.u8()),
  [OP.BININT2]: (vm) => vm.push(vm.input.u16()),
  [OP.LONG]: (vm) => vm.push(decimalInteger(vm, vm.input.line())),
  [OP.LONG1]: (vm) => vm.push(longInteger(vm, vm.input.u8())),
  [OP.LONG4]: (vm) => {
    const n = vm.input.i32();
    if (n < 0) vm.fail('negative LONG4 length');
    vm.push(longInteger(vm, n));
  },
  [OP.FLOAT]: (vm) => vm.push(decimalFloat(vm, vm.input.line().trim())),
  [OP.BINFLOAT]: (vm) => vm.push(vm.input.f64()),
};

export const STRING_OPS: OpcodeHandlers = {
  // A quoted Python 2 str repr.
  [OP.STRING]: (vm) => vm.push(decodeStringRepr(vm.input.line(), (problem) => vm.fail(problem))),
  [OP.BINSTRING]: (vm) => {
    const n = vm.input.i32();
    if (n < 0) vm.fail('negative BINSTRING length');
    vm.push(vm.input.text(vm.input.take(n)));
  },
  [OP.SHORT_BINSTRING]: (vm) => vm.push(vm.input.text(vm.input.take(vm.input.u8()))),
  [OP.UNICODE]: (vm) => vm.push(decodeRawUnicodeEscape(vm.input.line())),
  [OP.BINUNICODE]: (vm) => vm.push(vm.input.text(vm.input.take(vm.input.u32()))),
  [OP.SHORT_BINUNICODE]: (vm) => vm.push(vm.input.text(vm.input.take(vm.input.u8()))),
  [OP.BINUNICODE8]: (vm) => vm.push(vm.input.text(vm.input.take(vm.input.u64()))),
  // Copied, so that the decoded value does not keep the whole pickle alive.
  [OP.BINBYTES]: (vm) => vm.push(new Uint8Array(vm.input.take(vm.input.u32()))),
  [OP.SHORT_BINBYTES]: (vm) => vm.push(new Uint8Array(vm.input.take(vm.input.u8()))),
  [OP.BINBYTES8]: (vm) => vm.push(new Uint8Array(vm.input.take(vm.input.u64()))),
  [OP.BYTEARRAY8]: (vm) => vm.push(new Uint8Array(vm.input.take(vm.input.u64()))),
};
