import type { ServerResponse } from 'node:http';
import type { ParsedRequest } from './types.js';
import type { AnswerPlan } from './plan.js';
import { planText } from './plan.js';
import { sendJson, sleep, sseHead, sseSend, tokens } from './sse.js';

// Anthropic Messages API (what Claude Code speaks).

const stripReminders = (s: string) => s.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b: any) => (b?.type === 'text' ? b.text : b?.type === 'tool_result' ? blockText(b.content) : ''))
    .filter(Boolean)
    .join('\n');
}

export function parseAnthropic(body: any): ParsedRequest {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const last = messages[messages.length - 1];
  let toolResult: ParsedRequest['toolResult'];
  if (last?.role === 'user' && Array.isArray(last.content)) {
    const tr = [...last.content].reverse().find((b: any) => b?.type === 'tool_result');
    if (tr) toolResult = { callId: String(tr.tool_use_id ?? ''), text: blockText(tr.content) };
  }
  const lastUser = [...messages].reverse().find((m) => m?.role === 'user');
  const lastUserText = toolResult
    ? ''
    : stripReminders(
        typeof lastUser?.content === 'string'
          ? lastUser.content
          : (lastUser?.content ?? [])
              .filter((b: any) => b?.type === 'text')
              .map((b: any) => b.text)
              .join('\n'),
      );
  const system = typeof body?.system === 'string' ? body.system : blockText(body?.system);
  const toolNames = (Array.isArray(body?.tools) ? body.tools : []).map((t: any) => t?.name).filter(Boolean);
  return { api: 'anthropic', model: body?.model ?? 'fake-model', stream: !!body?.stream, lastUserText, toolResult, toolNames, system, raw: body };
}

/**
 * Claude Code's side calls (title/topic generation, quota probe…) offer no tools; its real turns always do.
 * A structured-output request is a side call whatever it offers.
 */
export function anthropicSideCall(p: ParsedRequest): string | undefined {
  if (p.raw?.output_format || p.raw?.output_config?.format) return 'structured';
  if (p.toolNames.length === 0 && !p.toolResult) {
    if (/title/i.test(p.system)) return 'title';
    if (p.raw?.max_tokens === 1) return 'quota';
    return 'no-tools';
  }
  return undefined;
}

export function anthropicSchema(p: ParsedRequest): unknown {
  return p.raw?.output_format?.schema ?? p.raw?.output_config?.format?.schema;
}

let seq = 0;

export async function answerAnthropic(res: ServerResponse, p: ParsedRequest, plan: AnswerPlan): Promise<void> {
  const id = `msg_fake_${++seq}`;
  const inTok = tokens(JSON.stringify(p.raw?.messages ?? ''));
  if (plan.kind === 'error') {
    await sleep(plan.delayMs);
    const type = plan.status === 429 ? 'rate_limit_error' : plan.status >= 500 ? 'api_error' : 'invalid_request_error';
    return sendJson(res, plan.status, { type: 'error', error: { type, message: plan.message } });
  }
  const text = plan.kind === 'tool' ? '' : planText(plan);
  const stopReason = plan.kind === 'tool' ? 'tool_use' : 'end_turn';
  if (!p.stream) {
    if (plan.kind !== 'json') await sleep(plan.delayMs);
    const content = plan.kind === 'tool' ? [{ type: 'tool_use', id: plan.callId, name: plan.name, input: plan.args }] : [{ type: 'text', text }];
    return sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: p.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: inTok, output_tokens: tokens(text || JSON.stringify(content)) },
    });
  }
  sseHead(res);
  sseSend(
    res,
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model: p.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inTok, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    },
    'message_start',
  );
  if (plan.kind !== 'json') await sleep(plan.delayMs);
  if (plan.kind === 'tool') {
    sseSend(
      res,
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: plan.callId, name: plan.name, input: {} } },
      'content_block_start',
    );
    const json = JSON.stringify(plan.args);
    const half = Math.ceil(json.length / 2);
    for (const part of [json.slice(0, half), json.slice(half)]) {
      sseSend(res, { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } }, 'content_block_delta');
    }
  } else {
    sseSend(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
    const pieces = plan.kind === 'text' ? plan.pieces : [text];
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && plan.kind === 'text') await sleep(plan.intervalMs);
      sseSend(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: pieces[i] } }, 'content_block_delta');
    }
  }
  sseSend(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sseSend(
    res,
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: tokens(text || '{}') } },
    'message_delta',
  );
  sseSend(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}
