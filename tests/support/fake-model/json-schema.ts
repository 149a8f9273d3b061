/**
 * Builds a value that satisfies a JSON schema (or Gemini's OpenAPI-ish `responseSchema` with upper-case types),
 * for side calls that ask for structured output. Knows a few field names whose meaning matters to clients.
 */
export function sampleFromSchema(schema: any, key = ''): unknown {
  if (!schema || typeof schema !== 'object') return 'ok';
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) {
    // Gemini's next-speaker check: the model is done, the user speaks next.
    if (key === 'next_speaker' && schema.enum.includes('user')) return 'user';
    return schema.enum[0];
  }
  const alts = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alts) && alts.length) return sampleFromSchema(alts[0], key);
  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t: string) => t.toLowerCase() !== 'null') ?? type[0];
  type = typeof type === 'string' ? type.toLowerCase() : schema.properties ? 'object' : 'string';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries<any>(schema.properties ?? {})) out[k] = sampleFromSchema(sub, k);
      return out;
    }
    case 'array':
      return schema.minItems ? [sampleFromSchema(schema.items, key)] : [];
    case 'number':
    case 'integer':
      // Gemini's router: a low complexity score keeps it on the default model.
      return typeof schema.minimum === 'number' ? schema.minimum : key === 'complexity_score' ? 1 : 0;
    case 'boolean':
      return false;
    default:
      if (/title/i.test(key)) return 'Fake title';
      if (/reason/i.test(key)) return 'Scripted by the fake model.';
      if (key === 'model_choice') return 'flash';
      return 'ok';
  }
}
