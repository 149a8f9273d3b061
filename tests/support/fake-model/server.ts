import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { FakeScript, LogEntry, LoggedRequest, ParsedRequest, WireApi } from './types.js';
import type { AnswerPlan } from './plan.js';
import { ScriptRunner } from './script.js';
import { sampleFromSchema } from './json-schema.js';
import { sendJson, tokens } from './sse.js';
import { anthropicSchema, anthropicSideCall, answerAnthropic, parseAnthropic } from './anthropic.js';
import { answerResponses, parseResponses, responsesSchema, responsesSideCall } from './responses.js';
import { collectResponsesTools, viaCodeMode } from './responses-tools.js';
import { answerChat, chatSchema, chatSideCall, parseChat } from './chat.js';
import { answerGemini, geminiSchema, geminiSideCall, parseGemini } from './gemini.js';

export const FAKE_MODEL_ID = 'fake-model';

export interface FakeModelOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  script?: FakeScript;
}

export interface FakeModel {
  /** `http://127.0.0.1:PORT` (no trailing slash, no `/v1`). */
  readonly url: string;
  readonly port: number;
  /** Replaces the script and forgets which turns were used. */
  setScript(s: FakeScript): void;
  /** Every HTTP request received, in order (body parsed as JSON when it is JSON). */
  readonly requests: LoggedRequest[];
  /** Every model request and what the server answered, in order. */
  readonly log: LogEntry[];
  /** Script turns not used yet. */
  remaining(): number;
  /** Resolves with the first log entry (existing or future) that satisfies `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (e: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  close(): Promise<void>;
}

interface Wire {
  api: WireApi;
  parse: () => ParsedRequest;
  side: (p: ParsedRequest) => string | undefined;
  schema: (p: ParsedRequest) => unknown;
  answer: (res: http.ServerResponse, p: ParsedRequest, plan: AnswerPlan) => Promise<void>;
}

/** Side calls that want prose (titles) get a short text; the rest get JSON built from their schema. */
function sideAnswer(w: Wire, p: ParsedRequest, kind: string): AnswerPlan {
  const schema = w.schema(p);
  if (schema) return { kind: 'json', value: sampleFromSchema(schema) };
  return { kind: 'text', pieces: [kind === 'title' ? 'Fake title' : 'OK'], delayMs: 0, intervalMs: 0 };
}

async function readBody(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let buf = Buffer.concat(chunks);
  const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (enc === 'gzip') buf = zlib.gunzipSync(buf);
  else if (enc === 'deflate') buf = zlib.inflateSync(buf);
  else if (enc === 'br') buf = zlib.brotliDecompressSync(buf);
  const text = buf.toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Starts a scripted fake model server on 127.0.0.1 speaking Anthropic, OpenAI Responses, Chat Completions and Gemini. */
export async function startFakeModel(opts: FakeModelOptions = {}): Promise<FakeModel> {
  const runner = new ScriptRunner(opts.script ?? { turns: [] });
  const requests: LoggedRequest[] = [];
  const log: LogEntry[] = [];
  const waiters = new Set<{ pred: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }>();
  const record = (e: LogEntry) => {
    log.push(e);
    for (const w of [...waiters])
      if (w.pred(e)) {
        waiters.delete(w);
        w.resolve(e);
      }
  };

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      const body = await readBody(req);
      requests.push({ method, path: req.url ?? '/', body });

      if ((method === 'HEAD' || method === 'GET') && path === '/') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(method === 'HEAD' ? undefined : 'fake model\n');
      }
      if (method === 'GET' && /^\/(v1\/)?models\/?$/.test(path)) {
        const created = Math.floor(Date.now() / 1000);
        return sendJson(res, 200, {
          object: 'list',
          data: [
            {
              id: FAKE_MODEL_ID,
              object: 'model',
              created,
              owned_by: 'fake',
              type: 'model',
              display_name: 'Fake Model',
              created_at: new Date(created * 1000).toISOString(),
            },
          ],
          has_more: false,
          first_id: FAKE_MODEL_ID,
          last_id: FAKE_MODEL_ID,
        });
      }
      if (method === 'GET' && /^\/v1beta\/models\/?$/.test(path)) {
        return sendJson(res, 200, {
          models: [{ name: `models/${FAKE_MODEL_ID}`, displayName: 'Fake Model', supportedGenerationMethods: ['generateContent'] }],
        });
      }
      if (method !== 'POST') return sendJson(res, 404, { error: { message: `fake model: no route ${method} ${path}` } });

      if (/^\/(v1\/)?messages\/count_tokens$/.test(path)) {
        return sendJson(res, 200, { input_tokens: tokens(JSON.stringify(body ?? '')) });
      }
      const gem = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/.exec(path);
      if (gem?.[2] === 'countTokens') return sendJson(res, 200, { totalTokens: tokens(JSON.stringify(body ?? '')) });

      let wire: Wire | undefined;
      if (/^\/(v1\/)?messages$/.test(path)) {
        wire = { api: 'anthropic', parse: () => parseAnthropic(body), side: anthropicSideCall, schema: anthropicSchema, answer: answerAnthropic };
      } else if (/^\/(v1\/)?responses$/.test(path)) {
        wire = { api: 'responses', parse: () => parseResponses(body), side: responsesSideCall, schema: responsesSchema, answer: answerResponses };
      } else if (/^\/(v1\/)?chat\/completions$/.test(path)) {
        wire = { api: 'chat', parse: () => parseChat(body), side: chatSideCall, schema: chatSchema, answer: answerChat };
      } else if (gem) {
        const stream = gem[2] === 'streamGenerateContent';
        wire = { api: 'gemini', parse: () => parseGemini(body, gem[1], stream), side: geminiSideCall, schema: geminiSchema, answer: answerGemini };
      }
      if (!wire) return sendJson(res, 404, { error: { message: `fake model: no route POST ${path}` } });

      const parsed = wire.parse();
      const side = wire.side(parsed);
      parsed.sideCall = side;
      let plan: AnswerPlan;
      let entry: Omit<LogEntry, 'answer'>;
      const common = {
        at: Date.now(),
        api: wire.api,
        path: req.url ?? path,
        lastUserText: parsed.lastUserText,
        toolResult: parsed.toolResult,
        toolNames: parsed.toolNames,
      };
      if (side) {
        plan = sideAnswer(wire, parsed, side);
        entry = { ...common, kind: 'side', sideCall: side, turnIndex: -1 };
      } else {
        const next = runner.next(parsed);
        plan = next.plan;
        entry = { ...common, kind: next.kind, turnIndex: next.turnIndex };
      }
      const answer: LogEntry['answer'] =
        plan.kind === 'text'
          ? { text: plan.pieces.join('') }
          : plan.kind === 'json'
            ? { json: plan.value }
            : plan.kind === 'tool'
              ? {
                  toolCall: {
                    name: plan.name,
                    arguments: plan.args,
                    callId: plan.callId,
                    ...(wire.api === 'responses' && viaCodeMode(collectResponsesTools(body), plan.name) ? { via: 'code-mode' as const } : {}),
                  },
                }
              : { error: { status: plan.status, message: plan.message } };
      record({ ...entry, answer });
      await wire.answer(res, parsed, plan);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake model crashed: ${(err as Error).message}` } });
      else res.end();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    log,
    setScript: (s) => runner.setScript(s),
    remaining: () => runner.remaining(),
    waitFor(pred, timeoutMs = 30_000) {
      const hit = log.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (e: LogEntry) => {
            clearTimeout(t);
            resolve(e);
          },
        };
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `fake model: no matching request within ${timeoutMs} ms; log: ${JSON.stringify(log.map((e) => [e.api, e.kind, e.sideCall ?? e.turnIndex]))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
