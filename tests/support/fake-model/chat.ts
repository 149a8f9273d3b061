import type { ServerResponse } from 'node:http';
import type { ParsedRequest } from './types.js';
import type { AnswerPlan } from './plan.js';
import { planText } from './plan.js';
import { sendJson, sleep, sseHead, sseSend, tokens } from './sse.js';
import { deferredResolver } from './deferred.js';

// OpenAI Chat Completions (what OpenCode's openai-compatible provider speaks).

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c: any) => (typeof c?.text === 'string' ? c.text : ''))
    .filter(Boolean)
    .join('\n');
}

export function parseChat(body: any): ParsedRequest {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const last = messages[messages.length - 1];
  const toolResult = last?.role === 'tool' ? { callId: String(last.tool_call_id ?? ''), text: contentText(last.content) } : undefined;
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  const toolNames: string[] = (Array.isArray(body?.tools) ? body.tools : []).map((t: any) => t?.function?.name ?? t?.name).filter(Boolean);
  return {
    api: 'chat',
    model: body?.model ?? 'fake-model',
    stream: !!body?.stream,
    lastUserText: toolResult ? '' : contentText(lastUser?.content),
    toolResult,
    toolNames,
    deferredTool: deferredResolver(toolNames, messages.map((m) => contentText(m?.content)).join('\n')),
    system: messages
      .filter((m) => m?.role === 'system' || m?.role === 'developer')
      .map((m) => contentText(m.content))
      .join('\n'),
    raw: body,
  };
}

/** OpenCode's title agent offers no tools and says "title" in its system prompt; structured output is a side call too. */
export function chatSideCall(p: ParsedRequest): string | undefined {
  if (p.raw?.response_format?.type === 'json_schema') return 'structured';
  if (p.toolNames.length === 0 && !p.toolResult && /title/i.test(p.system)) return 'title';
  // Qwen Code's follow-up suggestion after a turn (ui.enableFollowupSuggestions)
  if (/^\[SUGGESTION MODE:/.test(p.lastUserText)) return 'suggestion';
  return undefined;
}

export function chatSchema(p: ParsedRequest): unknown {
  return p.raw?.response_format?.json_schema?.schema;
}

let seq = 0;

export async function answerChat(res: ServerResponse, p: ParsedRequest, plan: AnswerPlan): Promise<void> {
  const id = `chatcmpl-fake-${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const inTok = tokens(JSON.stringify(p.raw?.messages ?? ''));
  if (plan.kind === 'error') {
    await sleep(plan.delayMs);
    return sendJson(res, plan.status, {
      error: { message: plan.message, type: plan.status >= 500 ? 'server_error' : 'invalid_request_error', code: null, param: null },
    });
  }
  const text = planText(plan);
  const finish = plan.kind === 'tool' ? 'tool_calls' : 'stop';
  const toolCall =
    plan.kind === 'tool' ? { id: plan.callId, type: 'function', function: { name: plan.name, arguments: JSON.stringify(plan.args) } } : undefined;
  const usage = { prompt_tokens: inTok, completion_tokens: tokens(text || '{}'), total_tokens: inTok + tokens(text || '{}') };
  if (!p.stream) {
    if (plan.kind !== 'json') await sleep(plan.delayMs);
    const message = toolCall ? { role: 'assistant', content: null, tool_calls: [toolCall] } : { role: 'assistant', content: text };
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: p.model,
      choices: [{ index: 0, message, finish_reason: finish }],
      usage,
    });
  }
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
    sseSend(res, { id, object: 'chat.completion.chunk', created, model: p.model, choices: [{ index: 0, delta, finish_reason }] });
  sseHead(res);
  chunk({ role: 'assistant', content: '' });
  if (plan.kind !== 'json') await sleep(plan.delayMs);
  if (toolCall) {
    const args = toolCall.function.arguments;
    const half = Math.ceil(args.length / 2);
    chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.function.name, arguments: '' } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, half) } }] });
    chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] });
  } else {
    const pieces = plan.kind === 'text' ? plan.pieces : [text];
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && plan.kind === 'text') await sleep(plan.intervalMs);
      chunk({ content: pieces[i] });
    }
  }
  chunk({}, finish);
  if (p.raw?.stream_options?.include_usage) sseSend(res, { id, object: 'chat.completion.chunk', created, model: p.model, choices: [], usage });
  sseSend(res, '[DONE]');
  res.end();
}
