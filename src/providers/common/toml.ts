/**
 * TOML literals for command-line config overrides (`codex -c key=value`). Every value is emitted as a
 * complete TOML literal so that quotes, newlines or `]` inside it can never end the literal early and
 * inject more config.
 */

/** A TOML basic string: backslash, quote and every control character escaped. */
export function tomlString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

export function tomlStringArray(values: string[]): string {
  return `[${values.map(tomlString).join(', ')}]`;
}

/** An inline table of strings; keys are always quoted, so any key is safe. */
export function tomlStringTable(entries: Record<string, string>): string {
  const parts = Object.entries(entries).map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`);
  return `{${parts.join(', ')}}`;
}

/** A TOML float (a whole number still gets its `.0`: some readers ignore integers where a float is expected). */
export function tomlFloat(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  const s = String(n);
  return /[.eE]/u.test(s) ? s : `${s}.0`;
}

/** True for a TOML bare key (usable unquoted inside a dotted `-c` path). */
export function isBareKey(key: string): boolean {
  return /^[A-Za-z0-9_-]+$/u.test(key);
}
