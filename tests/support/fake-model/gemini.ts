import type { ServerResponse } from 'node:http';
import type { ParsedRequest } from './types.js';
import type { AnswerPlan } from './plan.js';
import { planText } from './plan.js';
import { sendJson, sleep, sseHead, sseSend, tokens } from './sse.js';

// Gemini generateContent / streamGenerateContent (what Gemini CLI speaks).

const partsText = (parts: unknown) =>
  (Array.isArray(parts) ? parts : [])
    .map((p: any) => (typeof p?.text === 'string' && !p.thought ? p.text : ''))
    .filter(Boolean)
    .join('\n');

export function parseGemini(body: any, model: string, stream: boolean): ParsedRequest {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  const last = contents[contents.length - 1];
  let toolResult: ParsedRequest['toolResult'];
  const fr = (Array.isArray(last?.parts) ? last.parts : []).find((p: any) => p?.functionResponse);
  if (fr) {
    const r = fr.functionResponse;
    toolResult = { callId: String(r.id ?? r.name ?? ''), text: JSON.stringify(r.response ?? {}) };
  }
  const lastUser = [...contents].reverse().find((c) => c?.role === 'user' && partsText(c.parts));
  const toolNames: string[] = [];
  for (const t of Array.isArray(body?.tools) ? body.tools : []) {
    for (const d of Array.isArray(t?.functionDeclarations) ? t.functionDeclarations : []) if (d?.name) toolNames.push(d.name);
  }
  return {
    api: 'gemini',
    model,
    stream,
    lastUserText: toolResult ? '' : partsText(lastUser?.parts),
    toolResult,
    toolNames,
    system: partsText(body?.systemInstruction?.parts ?? (typeof body?.systemInstruction === 'string' ? [{ text: body.systemInstruction }] : [])),
    raw: body,
  };
}

/** Gemini CLI's routing and next-speaker checks ask for JSON output: answer them with JSON, not the script. */
export function geminiSideCall(p: ParsedRequest): string | undefined {
  const g = p.raw?.generationConfig ?? {};
  if (g.responseJsonSchema || g.responseSchema || g.responseMimeType === 'application/json') {
    return /complexity|rout/i.test(JSON.stringify(g.responseJsonSchema ?? g.responseSchema ?? '') + p.system) ? 'routing' : 'structured';
  }
  return undefined;
}

export function geminiSchema(p: ParsedRequest): unknown {
  const g = p.raw?.generationConfig ?? {};
  return g.responseJsonSchema ?? g.responseSchema ?? { type: 'object' };
}

export async function answerGemini(res: ServerResponse, p: ParsedRequest, plan: AnswerPlan): Promise<void> {
  const inTok = tokens(JSON.stringify(p.raw?.contents ?? ''));
  if (plan.kind === 'error') {
    await sleep(plan.delayMs);
    const status = plan.status === 429 ? 'RESOURCE_EXHAUSTED' : plan.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
    return sendJson(res, plan.status, { error: { code: plan.status, message: plan.message, status } });
  }
  const text = planText(plan);
  const usageMetadata = { promptTokenCount: inTok, candidatesTokenCount: tokens(text || '{}'), totalTokenCount: inTok + tokens(text || '{}') };
  const response = (parts: unknown[], finishReason?: string) => ({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finishReason ? { finishReason } : {}) }],
    ...(finishReason ? { usageMetadata } : {}),
    modelVersion: p.model,
    responseId: `fake-${Date.now().toString(36)}`,
  });
  const callPart = plan.kind === 'tool' ? { functionCall: { id: plan.callId, name: plan.name, args: plan.args } } : undefined;
  if (!p.stream) {
    if (plan.kind !== 'json') await sleep(plan.delayMs);
    return sendJson(res, 200, response(callPart ? [callPart] : [{ text }], 'STOP'));
  }
  sseHead(res);
  if (plan.kind !== 'json') await sleep(plan.delayMs);
  if (callPart) {
    sseSend(res, response([callPart], 'STOP'));
  } else {
    const pieces = plan.kind === 'text' ? plan.pieces : [text];
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && plan.kind === 'text') await sleep(plan.intervalMs);
      sseSend(res, response([{ text: pieces[i] }], i === pieces.length - 1 ? 'STOP' : undefined));
    }
  }
  res.end();
}
