/**
 * The interpreter: a loop that reads an opcode and runs its handler from a table, with an
 * explicit stack, so a hostile pickle cannot exhaust the JavaScript call stack. Every opcode
 * costs one step of the work budget.
 */
import { CALL_OPS, GLOBAL_OPS, REFUSED_OPS } from './call-ops.js';
import { NUMBER_OPS, STRING_OPS } from './constant-ops.js';
import { DICT_OPS, LIST_OPS, SET_OPS, TUPLE_OPS } from './container-ops.js';
import type { PickleMachine } from './machine.js';
import { OP, type OpcodeHandler } from './opcodes.js';
import { MEMO_OPS, STACK_OPS } from './stack-ops.js';
import type { PickleValue } from './values.js';

const unknownOpcode: OpcodeHandler = (vm) => {
  const op = vm.input.bytes[vm.input.opcodeStart];
  vm.fail(`malformed pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
};

/** Every byte's handler; a dense array, so that dispatch is a single indexed load. */
const HANDLERS: readonly OpcodeHandler[] = (() => {
  const table: OpcodeHandler[] = new Array(256).fill(unknownOpcode);
  for (const family of [STACK_OPS, MEMO_OPS, NUMBER_OPS, STRING_OPS, LIST_OPS, TUPLE_OPS, DICT_OPS, SET_OPS, GLOBAL_OPS, CALL_OPS, REFUSED_OPS]) {
    for (const [op, handler] of Object.entries(family)) table[Number(op)] = handler;
  }
  return table;
})();

/** Runs the pickle to its STOP opcode and returns what STOP pops. */
export function interpret<T>(vm: PickleMachine<T>): PickleValue<T> {
  const input = vm.input;
  if (input.bytes.length === 0) vm.fail('pickle is empty');
  for (;;) {
    input.opcodeStart = input.pos;
    if (input.atEnd) vm.fail('truncated pickle: it ends without a STOP opcode');
    vm.spend(1);
    const op = input.u8();
    if (op === OP.STOP) return vm.pop();
    HANDLERS[op](vm);
  }
}
