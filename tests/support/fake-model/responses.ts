import type { ServerResponse } from 'node:http';
import type { ParsedRequest } from './types.js';
import type { AnswerPlan } from './plan.js';
import { planText } from './plan.js';
import { sendJson, sleep, sseHead, sseSend, tokens } from './sse.js';
import { collectResponsesTools, execSource, resolveResponsesTool, toolNamesOf } from './responses-tools.js';

/** How long Codex's `exec` may wait for the nested tool before yielding back to the model. */
const EXEC_YIELD_MS = 600_000;

// OpenAI Responses API (what Codex speaks).

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c: any) => (typeof c?.text === 'string' ? c.text : ''))
    .filter(Boolean)
    .join('\n');
}

export function parseResponses(body: any): ParsedRequest {
  const input: any[] = typeof body?.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : (body?.input ?? []);
  const last = input[input.length - 1];
  let toolResult: ParsedRequest['toolResult'];
  if (last?.type === 'function_call_output' || last?.type === 'custom_tool_call_output') {
    const out = last.output;
    toolResult = {
      callId: String(last.call_id ?? ''),
      text: typeof out === 'string' ? out : contentText(out?.content ?? out) || JSON.stringify(out),
    };
  }
  const lastUser = [...input].reverse().find((i) => (i?.type === 'message' || !i?.type) && i?.role === 'user');
  const tools = collectResponsesTools(body);
  return {
    api: 'responses',
    model: body?.model ?? 'fake-model',
    stream: body?.stream !== false,
    lastUserText: toolResult ? '' : contentText(lastUser?.content),
    toolResult,
    toolNames: toolNamesOf(tools),
    resolveTool: (wanted) => resolveResponsesTool(tools, wanted),
    system: typeof body?.instructions === 'string' ? body.instructions : '',
    raw: body,
  };
}

/** Structured-output requests (`text.format` json_schema) are side calls; plain turns are not. */
export function responsesSideCall(p: ParsedRequest): string | undefined {
  const fmt = p.raw?.text?.format;
  if (fmt?.type === 'json_schema') return 'structured';
  return undefined;
}

export function responsesSchema(p: ParsedRequest): unknown {
  return p.raw?.text?.format?.schema;
}

/** The output item that calls `name`: a direct (maybe namespaced) function call, or JavaScript run by Codex's `exec`. */
function callItem(p: ParsedRequest, name: string, callId: string, args: Record<string, unknown>): any {
  const tools = collectResponsesTools(p.raw);
  const target = tools.direct.get(name);
  if (!target && tools.exec) {
    return {
      type: 'custom_tool_call',
      id: `ctc_${callId}`,
      call_id: callId,
      name: 'exec',
      input: execSource(name, args, EXEC_YIELD_MS),
      status: 'completed',
    };
  }
  const ns = target?.namespace && target.namespace !== 'functions' ? { namespace: target.namespace } : {};
  return {
    type: 'function_call',
    id: `fc_${callId}`,
    call_id: callId,
    ...ns,
    name: target?.name ?? name,
    arguments: JSON.stringify(args),
    status: 'completed',
  };
}

let seq = 0;

export async function answerResponses(res: ServerResponse, p: ParsedRequest, plan: AnswerPlan): Promise<void> {
  const respId = `resp_fake_${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const inTok = tokens(JSON.stringify(p.raw?.input ?? ''));
  if (plan.kind === 'error') {
    await sleep(plan.delayMs);
    return sendJson(res, plan.status, {
      error: { message: plan.message, type: plan.status >= 500 ? 'server_error' : 'invalid_request_error', code: null, param: null },
    });
  }
  const text = planText(plan);
  const msgId = `msg_fake_${seq}`;
  const item =
    plan.kind === 'tool'
      ? callItem(p, plan.name, plan.callId, plan.args)
      : { id: msgId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
  const outTok = tokens(text || JSON.stringify(item));
  const usage = {
    input_tokens: inTok,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outTok,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inTok + outTok,
  };
  const base = { id: respId, object: 'response', created_at: created, model: p.model };
  if (!p.stream) {
    if (plan.kind !== 'json') await sleep(plan.delayMs);
    return sendJson(res, 200, { ...base, status: 'completed', output: [item], output_text: text, usage });
  }
  let n = 0;
  const send = (type: string, data: Record<string, unknown>) => sseSend(res, { type, sequence_number: n++, ...data }, type);
  sseHead(res);
  send('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  send('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } });
  if (plan.kind !== 'json') await sleep(plan.delayMs);
  if (plan.kind === 'tool') {
    if (item.type === 'custom_tool_call') {
      send('response.output_item.added', { output_index: 0, item: { ...item, input: '', status: 'in_progress' } });
      send('response.custom_tool_call_input.delta', { item_id: item.id, output_index: 0, delta: item.input });
      send('response.custom_tool_call_input.done', { item_id: item.id, output_index: 0, input: item.input });
    } else {
      send('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
      send('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: item.arguments });
      send('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments });
    }
  } else {
    send('response.output_item.added', {
      output_index: 0,
      item: { id: msgId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    });
    send('response.content_part.added', {
      item_id: msgId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    const pieces = plan.kind === 'text' ? plan.pieces : [text];
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && plan.kind === 'text') await sleep(plan.intervalMs);
      send('response.output_text.delta', { item_id: msgId, output_index: 0, content_index: 0, delta: pieces[i] });
    }
    send('response.output_text.done', { item_id: msgId, output_index: 0, content_index: 0, text });
    send('response.content_part.done', { item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
  }
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', { response: { ...base, status: 'completed', output: [item], usage } });
  res.end();
}
