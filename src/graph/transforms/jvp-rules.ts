/** Every op of the op table's forward-mode rule, by name. The type makes a missing rule a compile error. */
import type { OpType } from '../ops.js';
import type { JvpRule } from './jvp-rule.js';
import { LINEAR_JVP_RULES } from './jvp-rules-linear.js';
import { NORMALIZATION_JVP_RULES } from './jvp-rules-normalization.js';
import { POINTWISE_JVP_RULES } from './jvp-rules-pointwise.js';
import { STRUCTURAL_JVP_RULES } from './jvp-rules-structural.js';

export const JVP_RULES: Record<OpType, JvpRule> = {
  ...POINTWISE_JVP_RULES,
  ...LINEAR_JVP_RULES,
  ...NORMALIZATION_JVP_RULES,
  ...STRUCTURAL_JVP_RULES,
};

/** The rule for `op`, or undefined when the op is outside the op table. */
export function jvpRule(op: string): JvpRule | undefined {
  return Object.hasOwn(JVP_RULES, op) ? JVP_RULES[op as OpType] : undefined;
}
