import { applyEdits, modify, parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { SetupError, lineCol, sameValue, withEntry } from './types.js';

/** What the client itself accepts in this file: cao-mcp refuses what the client would refuse. */
export interface JsonDialect {
  comments: boolean;
  trailingCommas: boolean;
  /** Who reads the file, for error messages. */
  reader: string;
}

const MESSAGES: Record<string, string> = {
  InvalidCommentToken: 'a comment',
  PropertyNameExpected: 'a property name expected',
  ValueExpected: 'a value expected',
  CommaExpected: 'a comma expected',
  ColonExpected: 'a colon expected',
  CloseBraceExpected: 'a closing brace expected',
  CloseBracketExpected: 'a closing bracket expected',
  EndOfFileExpected: 'the end of the file expected',
  InvalidSymbol: 'an unexpected character',
  UnexpectedEndOfString: 'an unterminated string',
  UnexpectedEndOfComment: 'an unterminated comment',
};

/** Parses `text` as the client would; throws a SetupError naming the file, line and column of the first problem. */
export function parseConfig(text: string, file: string, d: JsonDialect): Record<string, unknown> {
  if (!text.trim()) return {};
  const errors: ParseError[] = [];
  const tree: unknown = parse(text, errors, { disallowComments: !d.comments, allowTrailingComma: d.trailingCommas, allowEmptyContent: true });
  if (errors.length) {
    const e = errors[0];
    const { line, column } = lineCol(text, e.offset);
    const code = printParseErrorCode(e.error);
    const what = MESSAGES[code] ?? code;
    const trailing = code === 'PropertyNameExpected' || code === 'ValueExpected' ? ' (a trailing comma?)' : '';
    throw new SetupError(`${file}:${line}:${column}: ${d.reader} cannot read this file: ${what}${trailing}. Fix it and run setup again; nothing was written.`);
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new SetupError(`${file}: the top level is not a JSON object; nothing was written.`);
  return tree as Record<string, unknown>;
}

/** Indentation and line ending of an existing file, so the inserted entry looks like its neighbours. */
function formatOf(text: string): { insertSpaces: boolean; tabSize: number; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
}

/**
 * Sets `path` (e.g. ["mcpServers", "cao"]) to `value` in a JSON/JSONC text, editing only that entry: other entries,
 * comments and formatting stay. Unchanged text when the entry already has that value (running twice is a no-op).
 */
export function setJsonEntry(current: string | undefined, file: string, d: JsonDialect, path: string[], value: unknown): string {
  const text = current ?? '';
  const tree = parseConfig(text, file, d);
  for (let i = 1; i < path.length; i++) {
    const parent = path.slice(0, i).reduce<unknown>((t, k) => (t as Record<string, unknown> | undefined)?.[k], tree);
    if (parent !== undefined && (typeof parent !== 'object' || parent === null || Array.isArray(parent)))
      throw new SetupError(`${file}: "${path.slice(0, i).join('.')}" is not an object; nothing was written.`);
  }
  const existing = path.reduce<unknown>((t, k) => (t as Record<string, unknown> | undefined)?.[k], tree);
  if (sameValue(existing, value)) return text;
  const base = text.trim() ? text : '{}\n';
  const f = formatOf(text);
  let out = applyEdits(base, modify(base, path, value, { formattingOptions: f }));
  if (!out.endsWith('\n')) out += f.eol;
  // The edit must change that entry and nothing else; anything else would be a bug here, never the user's loss.
  if (!sameValue(parseConfig(out, file, d), withEntry(tree, path, value))) throw new SetupError(`${file}: editing it would change more than "${path.join('.')}"; nothing was written.`);
  return out;
}
