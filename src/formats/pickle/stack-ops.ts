/** Opcodes of framing, of the stack and its MARKs, and of the memo. */
import { decimalInteger } from './numbers.js';
import { OP, type OpcodeHandlers } from './opcodes.js';

const HIGHEST_PROTOCOL = 5;

export const STACK_OPS: OpcodeHandlers = {
  [OP.PROTO]: (vm) => {
    const protocol = vm.input.u8();
    if (protocol > HIGHEST_PROTOCOL) vm.fail(`unsupported pickle protocol ${protocol}`);
  },
  // Framing is only a read-ahead hint.
  [OP.FRAME]: (vm) => void vm.input.u64(),
  [OP.MARK]: (vm) => vm.mark(),
  [OP.POP]: (vm) => vm.discard(),
  [OP.POP_MARK]: (vm) => void vm.popMark(),
  [OP.DUP]: (vm) => vm.push(vm.top()),
};

export const MEMO_OPS: OpcodeHandlers = {
  [OP.GET]: (vm) => vm.push(vm.recall(Number(decimalInteger(vm, vm.input.line())))),
  [OP.BINGET]: (vm) => vm.push(vm.recall(vm.input.u8())),
  [OP.LONG_BINGET]: (vm) => vm.push(vm.recall(vm.input.u32())),
  [OP.PUT]: (vm) => vm.remember(Number(decimalInteger(vm, vm.input.line())), vm.top()),
  [OP.BINPUT]: (vm) => vm.remember(vm.input.u8(), vm.top()),
  [OP.LONG_BINPUT]: (vm) => vm.remember(vm.input.u32(), vm.top()),
  [OP.MEMOIZE]: (vm) => vm.memoize(),
};
