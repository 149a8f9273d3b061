import {
  applyEdits,
  createScanner,
  findNodeAtLocation,
  modify,
  parse,
  parseTree,
  printParseErrorCode,
  SyntaxKind,
  type Edit,
  type Node,
  type ParseError,
} from 'jsonc-parser';
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
    throw new SetupError(
      `${file}:${line}:${column}: ${d.reader} cannot read this file: ${what}${trailing}. Fix it and run setup again; nothing was written.`,
    );
  }
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree))
    throw new SetupError(`${file}: the top level is not a JSON object; nothing was written.`);
  return tree as Record<string, unknown>;
}

/** Indentation and line ending of an existing file, so the inserted entry looks like its neighbours. */
function formatOf(text: string): { insertSpaces: boolean; tabSize: number; eol: string; unit: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol, unit: '\t' };
  const tabSize = indent ? Math.min(indent.length, 8) : 2;
  return { insertSpaces: true, tabSize, eol, unit: ' '.repeat(tabSize) };
}

/** The whitespace that starts the line holding `offset`. */
function indentAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))![0];
}

/**
 * Where to put a new property after `offset` (the end of the last one): after its comma if it has one, then at the
 * end of that line, past any comment there (so `"a": 1 // note` keeps its note). Undefined when more JSON follows on
 * the same line (a one-line object).
 */
function afterLine(text: string, offset: number): { comma: number | undefined; at: number } | undefined {
  const sc = createScanner(text, false);
  sc.setPosition(offset);
  let comma: number | undefined;
  for (;;) {
    const k = sc.scan();
    if (k === SyntaxKind.Trivia || k === SyntaxKind.LineCommentTrivia || k === SyntaxKind.BlockCommentTrivia) continue;
    if (k === SyntaxKind.CommaToken && comma === undefined) comma = sc.getTokenOffset() + 1;
    else if (k === SyntaxKind.LineBreakTrivia) return { comma, at: sc.getTokenOffset() };
    else return undefined;
  }
}

/**
 * Text edits that set `path` to `value` touching only that entry: the new text is laid out like the lines around it,
 * and comments stay where they were. Undefined where the layout is unusual (one-line objects): the caller then
 * lets jsonc-parser format the edit.
 */
function entryEdits(text: string, root: Node, path: string[], value: unknown, f: { eol: string; unit: string }): Edit[] | undefined {
  const render = (v: unknown, indent: string) => JSON.stringify(v, null, f.unit).replaceAll('\n', f.eol + indent);
  const node = findNodeAtLocation(root, path);
  if (node) {
    const indent = indentAt(text, node.parent!.offset);
    return [{ offset: node.offset, length: node.length, content: render(value, indent) }];
  }
  // the deepest object on the path that exists; the rest of the path becomes a nested value
  let depth = path.length - 1;
  while (depth > 0 && !findNodeAtLocation(root, path.slice(0, depth))) depth--;
  const parent = depth ? findNodeAtLocation(root, path.slice(0, depth))! : root;
  if (parent.type !== 'object') return undefined;
  const nested = path.slice(depth + 1).reduceRight<unknown>((v, k) => ({ [k]: v }), value);
  const key = JSON.stringify(path[depth]);
  const props = parent.children ?? [];
  if (!props.length) {
    const inner = text.slice(parent.offset + 1, parent.offset + parent.length - 1);
    if (inner.trim()) return undefined; // only comments inside: keep them, let jsonc-parser place the entry
    const outer = parent.parent ? indentAt(text, parent.parent.offset) : '';
    const indent = outer + f.unit;
    return [{ offset: parent.offset + 1, length: inner.length, content: `${f.eol}${indent}${key}: ${render(nested, indent)}${f.eol}${outer}` }];
  }
  const last = props[props.length - 1];
  const indent = indentAt(text, last.offset);
  const end = afterLine(text, last.offset + last.length);
  if (!end) return undefined;
  const line = `${f.eol}${indent}${key}: ${render(nested, indent)}`;
  if (end.comma !== undefined) return [{ offset: end.at, length: 0, content: line + ',' }];
  return [
    { offset: last.offset + last.length, length: 0, content: ',' },
    { offset: end.at, length: 0, content: line },
  ];
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
  const f = formatOf(text);
  const want = withEntry(tree, path, value);
  let out: string;
  if (!text.trim()) out = JSON.stringify(want, null, f.unit).replaceAll('\n', f.eol) + f.eol;
  else {
    const root = parseTree(text, [], { allowTrailingComma: true })!;
    const edits = entryEdits(text, root, path, value, f) ?? modify(text, path, value, { formattingOptions: f });
    out = applyEdits(text, edits);
    if (!out.endsWith('\n')) out += f.eol;
  }
  // The edit must change that entry and nothing else; anything else would be a bug here, never the user's loss.
  if (!sameValue(parseConfig(out, file, d), want))
    throw new SetupError(`${file}: editing it would change more than "${path.join('.')}"; nothing was written.`);
  return out;
}
