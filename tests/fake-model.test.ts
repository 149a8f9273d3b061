import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeScript } from './support/fake-model/index.js';

// Unit tests of the scripted fake model server, over real HTTP with plain fetch.

let fm: FakeModel | undefined;
afterEach(async () => {
  await fm?.close();
  fm = undefined;
});

async function start(script: FakeScript): Promise<FakeModel> {
  fm = await startFakeModel({ script });
  return fm;
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${fm!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

interface SseEvent {
  event?: string;
  data: string;
  at: number;
}

/** Reads an SSE response, timestamping each event as it arrives (to prove it streams). */
async function readSse(res: Response): Promise<SseEvent[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const out: SseEvent[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev: SseEvent = { data: '', at: Date.now() };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) ev.data += line.slice(6);
      }
      out.push(ev);
    }
  }
  return out;
}

const json = (e: SseEvent) => JSON.parse(e.data);

describe('fake model: basics', () => {
  it('listens on 127.0.0.1 on a free port and answers HEAD/GET / and GET /v1/models', async () => {
    await start({ turns: [] });
    expect(fm!.url).toBe(`http://127.0.0.1:${fm!.port}`);
    expect(fm!.port).toBeGreaterThan(0);
    expect((await fetch(`${fm!.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${fm!.url}/`)).status).toBe(200);
    const models = (await (await fetch(`${fm!.url}/v1/models`)).json()) as any;
    expect(models.data).toHaveLength(1);
    expect(models.data[0].id).toBe('fake-model');
    expect((await fetch(`${fm!.url}/nope`)).status).toBe(404);
    expect(fm!.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /', 'GET /', 'GET /v1/models', 'GET /nope']);
  });

  it('two servers run side by side with their own scripts', async () => {
    const a = await startFakeModel({ script: { turns: [{ text: 'from-A' }] } });
    const b = await startFakeModel({ script: { turns: [{ text: 'from-B' }] } });
    try {
      expect(a.port).not.toBe(b.port);
      const ask = async (m: FakeModel) =>
        (
          (await (
            await fetch(`${m.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) })
          ).json()) as any
        ).choices[0].message.content;
      expect(await ask(a)).toBe('from-A');
      expect(await ask(b)).toBe('from-B');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('fake model: Anthropic Messages', () => {
  const tools = [
    { name: 'Bash', input_schema: {} },
    { name: 'mcp__cao__send_message', input_schema: {} },
  ];

  it('streams a text turn in chunks with the full event sequence', async () => {
    await start({ turns: [{ match: 'ping', text: 'PONG-1 streamed', chunks: 3, chunkIntervalMs: 60, delayMs: 100 }] });
    const t0 = Date.now();
    const events = await readSse(
      await post('/v1/messages?beta=true', {
        model: 'claude-x',
        stream: true,
        tools,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'say ping' }] }],
      }),
    );
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const deltas = events.filter((e) => e.event === 'content_block_delta');
    expect(deltas.map((e) => json(e).delta.text).join('')).toBe('PONG-1 streamed');
    expect(deltas.every((e) => json(e).delta.type === 'text_delta')).toBe(true);
    // the delay and the chunk interval are real: chunks arrive spread out in time
    expect(deltas[0].at - t0).toBeGreaterThanOrEqual(90);
    expect(deltas[2].at - deltas[0].at).toBeGreaterThanOrEqual(100);
    expect(json(events[6]).delta.stop_reason).toBe('end_turn');
    expect(json(events[0]).message.model).toBe('claude-x');
    expect(fm!.log).toHaveLength(1);
    expect(fm!.log[0]).toMatchObject({ api: 'anthropic', kind: 'turn', turnIndex: 0, lastUserText: 'say ping', answer: { text: 'PONG-1 streamed' } });
  });

  it('answers non-streaming requests with a JSON message', async () => {
    await start({ turns: [{ text: 'plain answer' }] });
    const res = await post('/v1/messages', { model: 'm', tools, messages: [{ role: 'user', content: 'hello' }] });
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [{ type: 'text', text: 'plain answer' }] });
  });

  it('calls a tool by suffix with input_json_delta, then answers the tool result with afterTool', async () => {
    await start({ turns: [{ match: 'delegate', toolCall: { name: 'send_message', arguments: { message: 'hi there' } }, afterTool: 'SENT' }] });
    const events = await readSse(await post('/v1/messages', { stream: true, tools, messages: [{ role: 'user', content: 'delegate it' }] }));
    const start0 = json(events.find((e) => e.event === 'content_block_start')!);
    expect(start0.content_block).toMatchObject({ type: 'tool_use', name: 'mcp__cao__send_message' });
    const partial = events.filter((e) => e.event === 'content_block_delta').map((e) => json(e).delta);
    expect(partial.every((d) => d.type === 'input_json_delta')).toBe(true);
    expect(JSON.parse(partial.map((d) => d.partial_json).join(''))).toEqual({ message: 'hi there' });
    expect(json(events.find((e) => e.event === 'message_delta')!).delta.stop_reason).toBe('tool_use');
    const id = start0.content_block.id;
    const follow = await readSse(
      await post('/v1/messages', {
        stream: true,
        tools,
        messages: [
          { role: 'user', content: 'delegate it' },
          { role: 'assistant', content: [{ type: 'tool_use', id, name: 'mcp__cao__send_message', input: { message: 'hi there' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: 'queued' }] }] },
        ],
      }),
    );
    expect(
      follow
        .filter((e) => e.event === 'content_block_delta')
        .map((e) => json(e).delta.text)
        .join(''),
    ).toBe('SENT');
    expect(fm!.log.map((e) => e.kind)).toEqual(['turn', 'after-tool']);
    expect(fm!.log[1].toolResult).toEqual({ callId: id, text: 'queued' });
  });

  it('treats no-tool and structured-output requests as side calls and keeps the script for real turns', async () => {
    await start({ turns: [{ text: 'REAL' }] });
    const title = (await (
      await post('/v1/messages', {
        system: [{ type: 'text', text: 'Generate a concise title' }],
        messages: [{ role: 'user', content: 'x' }],
        output_config: {
          format: { type: 'json_schema', schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } },
        },
      })
    ).json()) as any;
    expect(JSON.parse(title.content[0].text)).toEqual({ title: 'Fake title' });
    const quota = (await (await post('/v1/messages', { max_tokens: 1, messages: [{ role: 'user', content: 'quota' }] })).json()) as any;
    expect(quota.content[0].type).toBe('text');
    const count = (await (await post('/v1/messages/count_tokens', { messages: [{ role: 'user', content: 'abcdefgh' }] })).json()) as any;
    expect(count.input_tokens).toBeGreaterThan(0);
    const real = (await (await post('/v1/messages', { tools, messages: [{ role: 'user', content: 'go' }] })).json()) as any;
    expect(real.content[0].text).toBe('REAL');
    expect(fm!.log.map((e) => [e.kind, e.sideCall])).toEqual([
      ['side', 'structured'],
      ['side', 'quota'],
      ['turn', undefined],
    ]);
  });

  it('answers an error turn with the status and an Anthropic error body', async () => {
    await start({ turns: [{ error: { status: 400, message: 'scripted failure' } }] });
    const res = await post('/v1/messages', { stream: true, tools, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    expect((await res.json()) as any).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'scripted failure' } });
  });
});

describe('fake model: OpenAI Responses', () => {
  it('streams text with the Responses event sequence and usage', async () => {
    await start({ turns: [{ text: 'PONG-2', chunks: ['PO', 'NG', '-2'] }] });
    const events = await readSse(
      await post('/v1/responses', {
        model: 'gpt-x',
        stream: true,
        input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'say ping' }] }],
      }),
    );
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_item.added');
    expect(types.at(-1)).toBe('response.completed');
    expect(events.every((e) => json(e).type === e.event)).toBe(true);
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => json(e).delta)).toEqual(['PO', 'NG', '-2']);
    const done = json(events.find((e) => e.event === 'response.output_item.done')!);
    expect(done.item.content[0].text).toBe('PONG-2');
    const completed = json(events.at(-1)!);
    expect(completed.response.status).toBe('completed');
    expect(completed.response.usage.total_tokens).toBeGreaterThan(0);
  });

  it('calls a plain function tool by suffix and answers the function_call_output', async () => {
    await start({ turns: [{ toolCall: { name: 'send_message', arguments: { message: 'm1' } }, afterTool: 'AFTER' }] });
    const tools = [
      { type: 'function', name: 'shell' },
      { type: 'function', name: 'mcp__cao__send_message' },
    ];
    const events = await readSse(await post('/v1/responses', { stream: true, tools, input: 'go' }));
    const item = json(events.find((e) => e.event === 'response.output_item.done')!).item;
    expect(item).toMatchObject({ type: 'function_call', name: 'mcp__cao__send_message' });
    expect(JSON.parse(item.arguments)).toEqual({ message: 'm1' });
    const follow = (await (
      await post('/v1/responses', {
        stream: false,
        tools,
        input: [{ type: 'message', role: 'user', content: 'go' }, item, { type: 'function_call_output', call_id: item.call_id, output: 'ok' }],
      })
    ).json()) as any;
    expect(follow.output[0].content[0].text).toBe('AFTER');
    expect(fm!.log.map((e) => e.kind)).toEqual(['turn', 'after-tool']);
  });

  it('reaches a deferred MCP tool through Codex code mode (exec custom tool with JavaScript)', async () => {
    await start({ turns: [{ toolCall: { name: 'send_message', arguments: { message: 'via exec' } }, afterTool: 'DONE' }] });
    // what Codex 0.169 sends with a code-mode model: no `tools`, an additional_tools item, deferred MCP namespaces
    const input = [
      {
        type: 'additional_tools',
        role: 'developer',
        tools: [
          {
            type: 'namespace',
            name: 'functions',
            tools: [{ type: 'custom', name: 'exec', description: 'declare const tools: { exec_command(args: {}): Promise<unknown>; };' }],
          },
          { type: 'namespace', name: 'collaboration', tools: [{ type: 'function', name: 'send_message' }] },
        ],
      },
      {
        type: 'message',
        role: 'developer',
        content: [{ type: 'input_text', text: '<tools>\nDeferred tool namespaces:\n- mcp__cao\n- mcp__codex_tui\n</tools>' }],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'delegate' }] },
    ];
    const events = await readSse(await post('/v1/responses', { stream: true, input }));
    const item = json(events.find((e) => e.event === 'response.output_item.done')!).item;
    // not Codex's own collaboration.send_message: the MCP tool, looked up at run time inside exec
    expect(item).toMatchObject({ type: 'custom_tool_call', name: 'exec' });
    expect(item.input).toContain('ALL_TOOLS');
    expect(item.input).toContain('{"message":"via exec"}');
    expect(fm!.log[0].answer).toMatchObject({ toolCall: { name: 'mcp__*__send_message', via: 'code-mode' } });
    const follow = await readSse(
      await post('/v1/responses', {
        stream: true,
        input: [...input, item, { type: 'custom_tool_call_output', call_id: item.call_id, output: [{ type: 'input_text', text: 'RECORDED' }] }],
      }),
    );
    expect(events.length).toBeGreaterThan(0);
    expect(
      follow
        .filter((e) => e.event === 'response.output_text.delta')
        .map((e) => json(e).delta)
        .join(''),
    ).toBe('DONE');
    expect(fm!.log[1]).toMatchObject({ kind: 'after-tool', toolResult: { callId: item.call_id, text: 'RECORDED' } });
  });

  it('treats a json_schema request (title generation) as a side call', async () => {
    await start({ turns: [{ text: 'REAL' }] });
    const res = (await (
      await post('/v1/responses', {
        stream: false,
        input: 'Generate a title',
        text: { format: { type: 'json_schema', name: 't', schema: { type: 'object', properties: { title: { type: 'string' } } } } },
      })
    ).json()) as any;
    expect(JSON.parse(res.output[0].content[0].text)).toEqual({ title: 'Fake title' });
    expect(fm!.remaining()).toBe(1);
  });
});

describe('fake model: Chat Completions', () => {
  it('streams content chunks, finish_reason and [DONE]', async () => {
    await start({ turns: [{ text: 'PONG-3', chunks: 2 }] });
    const events = await readSse(
      await post('/v1/chat/completions', {
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'say ping' }],
        tools: [{ type: 'function', function: { name: 'bash' } }],
      }),
    );
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map(json);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('PONG-3');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
  });

  it('streams tool_calls and answers the tool message', async () => {
    await start({ turns: [{ toolCall: { name: 'send_message', arguments: { message: 'x' } }, afterTool: 'TOOL-DONE' }] });
    const tools = [
      { type: 'function', function: { name: 'bash' } },
      { type: 'function', function: { name: 'cao_send_message' } },
    ];
    const events = await readSse(await post('/v1/chat/completions', { stream: true, tools, messages: [{ role: 'user', content: 'go' }] }));
    const chunks = events.slice(0, -1).map(json);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'cao_send_message' } });
    expect(JSON.parse(calls.map((c: any) => c.function.arguments ?? '').join(''))).toEqual({ message: 'x' });
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
    const follow = (await (
      await post('/v1/chat/completions', {
        tools,
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: calls[0].id, type: 'function', function: { name: 'cao_send_message', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: calls[0].id, content: 'ok' },
        ],
      })
    ).json()) as any;
    expect(follow.choices[0].message.content).toBe('TOOL-DONE');
  });

  it('treats a title request without tools as a side call', async () => {
    await start({ turns: [{ text: 'REAL' }] });
    const t = (await (
      await post('/v1/chat/completions', {
        messages: [
          { role: 'system', content: 'You are a title generator.' },
          { role: 'user', content: 'x' },
        ],
      })
    ).json()) as any;
    expect(t.choices[0].message.content).toBe('Fake title');
    expect(fm!.log[0]).toMatchObject({ kind: 'side', sideCall: 'title' });
    expect(fm!.remaining()).toBe(1);
  });

  it('answers an error turn with an OpenAI error body', async () => {
    await start({ turns: [{ error: { status: 503, message: 'overloaded' } }] });
    const res = await post('/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.message).toBe('overloaded');
  });
});

describe('fake model: Gemini', () => {
  const tools = [{ functionDeclarations: [{ name: 'run_shell_command' }, { name: 'mcp_cao_send_message' }] }];

  it('streams GenerateContentResponse chunks over SSE', async () => {
    await start({ turns: [{ text: 'PONG-4', chunks: 2 }] });
    const events = await readSse(
      await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse', { contents: [{ role: 'user', parts: [{ text: 'say ping' }] }], tools }),
    );
    const parts = events.map(json);
    expect(parts.map((p) => p.candidates[0].content.parts[0].text).join('')).toBe('PONG-4');
    expect(parts.at(-1).candidates[0].finishReason).toBe('STOP');
    expect(parts.at(-1).usageMetadata.totalTokenCount).toBeGreaterThan(0);
    expect(fm!.log[0]).toMatchObject({ api: 'gemini', kind: 'turn', lastUserText: 'say ping' });
  });

  it('calls a tool with a functionCall part and answers the functionResponse', async () => {
    await start({ turns: [{ toolCall: { name: 'send_message', arguments: { message: 'g' } }, afterTool: 'G-DONE' }] });
    const events = await readSse(
      await post('/v1beta/models/gemini-x:streamGenerateContent?alt=sse', { contents: [{ role: 'user', parts: [{ text: 'go' }] }], tools }),
    );
    const call = json(events[0]).candidates[0].content.parts[0].functionCall;
    expect(call).toMatchObject({ name: 'mcp_cao_send_message', args: { message: 'g' } });
    const follow = (await (
      await post('/v1beta/models/gemini-x:generateContent', {
        tools,
        contents: [
          { role: 'user', parts: [{ text: 'go' }] },
          { role: 'model', parts: [{ functionCall: call }] },
          { role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: 'ok' } } }] },
        ],
      })
    ).json()) as any;
    expect(follow.candidates[0].content.parts[0].text).toBe('G-DONE');
  });

  it('answers the routing call with JSON matching its schema, not with the script', async () => {
    await start({ turns: [{ text: 'REAL' }] });
    const res = (await (
      await post('/v1beta/models/flash-lite:generateContent', {
        contents: [{ role: 'user', parts: [{ text: 'route this' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseJsonSchema: {
            type: 'OBJECT',
            properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } },
            required: ['complexity_reasoning', 'complexity_score'],
          },
        },
      })
    ).json()) as any;
    const answer = JSON.parse(res.candidates[0].content.parts[0].text);
    expect(typeof answer.complexity_score).toBe('number');
    expect(typeof answer.complexity_reasoning).toBe('string');
    expect(fm!.log[0]).toMatchObject({ kind: 'side', sideCall: 'routing' });
    expect(fm!.remaining()).toBe(1);
  });
});

describe('fake model: script selection', () => {
  it('takes the first unused turn whose match fits, else the default; regex matches work', async () => {
    await start({
      turns: [{ match: /^second/, text: 'S' }, { match: 'first', text: 'F' }, { text: 'ANY' }],
      default: { text: 'DEF' },
    });
    const ask = async (q: string) =>
      ((await (await post('/v1/chat/completions', { messages: [{ role: 'user', content: q }] })).json()) as any).choices[0].message.content;
    expect(await ask('first question')).toBe('F');
    expect(await ask('second question')).toBe('S');
    expect(await ask('third')).toBe('ANY');
    expect(await ask('fourth')).toBe('DEF');
    expect(fm!.log.map((e) => e.turnIndex)).toEqual([1, 0, 2, -1]);
    expect(fm!.remaining()).toBe(0);
  });

  it('setScript replaces the script; waitFor resolves on a future entry and times out clearly', async () => {
    await start({ turns: [] });
    fm!.setScript({ turns: [{ text: 'NEW' }] });
    const waiting = fm!.waitFor((e) => e.kind === 'turn', 2000);
    await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
    expect((await waiting).answer).toEqual({ text: 'NEW' });
    await expect(fm!.waitFor((e) => e.kind === 'side', 100)).rejects.toThrow(/no matching request/);
  });

  it('chains tool calls: afterTool can itself be a tool call', async () => {
    await start({ turns: [{ toolCall: { name: 'a', arguments: {} }, afterTool: { toolCall: { name: 'b', arguments: {} }, afterTool: 'END' } }] });
    const tools = [
      { type: 'function', function: { name: 'a' } },
      { type: 'function', function: { name: 'b' } },
    ];
    const call = async (messages: unknown[]) => ((await (await post('/v1/chat/completions', { tools, messages })).json()) as any).choices[0].message;
    const m1 = await call([{ role: 'user', content: 'go' }]);
    expect(m1.tool_calls[0].function.name).toBe('a');
    const m2 = await call([{ role: 'user', content: 'go' }, m1, { role: 'tool', tool_call_id: m1.tool_calls[0].id, content: 'r1' }]);
    expect(m2.tool_calls[0].function.name).toBe('b');
    const m3 = await call([
      { role: 'user', content: 'go' },
      m1,
      { role: 'tool', tool_call_id: m1.tool_calls[0].id, content: 'r1' },
      m2,
      { role: 'tool', tool_call_id: m2.tool_calls[0].id, content: 'r2' },
    ]);
    expect(m3.content).toBe('END');
  });
});
