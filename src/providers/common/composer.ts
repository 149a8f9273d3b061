import type { ScreenSnapshot } from '../../screen/snapshot.js';
import { findLastIndex, isBlank, isRuleOf, lastNonBlankIndex } from './lines.js';

/**
 * A composer drawn between two rules of `rule` (at least 40 wide), as Copilot CLI, Qwen Code and pi draw it.
 * `last` is the last non-blank row; `bottom` the lowest rule with at most `maxFooterRows` non-blank rows under
 * it, searched from `last` up to the viewport top; `top` the nearest rule above `bottom`, at most `maxHeight`
 * rows up. -1 for what is not found (`top` is -1 when `bottom` is).
 */
export function findRuledComposer(
  s: ScreenSnapshot,
  rule: string,
  maxFooterRows: number,
  maxHeight: number,
): { last: number; top: number; bottom: number } {
  const lines = s.lines;
  const last = lastNonBlankIndex(lines);
  let bottom = -1;
  for (let i = last, below = 0; i >= Math.max(0, s.viewportTop) && below <= maxFooterRows; i--) {
    if (isRuleOf(lines[i], rule, 40)) {
      bottom = i;
      break;
    }
    if (!isBlank(lines[i])) below++;
  }
  const top = bottom < 0 ? -1 : findLastIndex(lines, (l) => isRuleOf(l, rule, 40), bottom - 1, Math.max(0, bottom - maxHeight));
  return { last, top, bottom };
}
