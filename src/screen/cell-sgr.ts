import type { IBufferCell } from '@xterm/headless';

/**
 * The SGR parameters that draw one rendered cell's attributes from the default state (no leading reset). Shared by
 * `cao-mcp attach` (which redraws a screen) and the capture tool (which writes colour rows).
 */
export function cellSgrParams(c: IBufferCell): string[] {
  const p: string[] = [];
  if (c.isBold()) p.push('1');
  if (c.isDim()) p.push('2');
  if (c.isItalic()) p.push('3');
  if (c.isUnderline()) p.push('4');
  if (c.isBlink()) p.push('5');
  if (c.isInverse()) p.push('7');
  if (c.isInvisible()) p.push('8');
  if (c.isStrikethrough()) p.push('9');
  if (c.isOverline()) p.push('53');
  p.push(...fgParams(c), ...bgParams(c));
  return p;
}

const fgParams = (c: IBufferCell) => colourParams(c.isFgRGB(), c.isFgPalette(), c.getFgColor(), 30);
export const bgParams = (c: IBufferCell) => colourParams(c.isBgRGB(), c.isBgPalette(), c.getBgColor(), 40);

/** A foreground (base 30) or background (base 40) colour: truecolour, the 16 named colours, or the 256 palette. */
function colourParams(rgb: boolean, palette: boolean, v: number, base: 30 | 40): string[] {
  if (rgb) return [`${base + 8};2;${(v >> 16) & 255};${(v >> 8) & 255};${v & 255}`];
  if (!palette) return [];
  if (v < 8) return [String(base + v)];
  if (v < 16) return [String(base + 60 + v - 8)];
  return [`${base + 8};5;${v}`];
}
