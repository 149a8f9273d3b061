import type { IncomingMessage, ServerResponse } from 'node:http';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { InlineToolCall } from '../tools.js';

interface ToolCallRequest {
  jsonrpc: '2.0';
  id: string | number;
  method: 'tools/call';
  params: { name: string; arguments?: unknown };
}

/**
 * The hot path of Streamable HTTP: a POST that holds one `tools/call` of a quick tool (send_message,
 * list_agents, list_profiles) on an open session is answered here, with a JSON response (which the spec
 * allows in place of an SSE stream). The SDK's path runs each call through a web-stream adapter and an SSE
 * stream, which cost about half of the hub's CPU per send_message under load (bench/README.md, inbox).
 * Anything else (other methods, batches, bad headers, arguments that do not fit) returns false and is
 * left to the SDK, so its answers and errors stay the SDK's own.
 */
export async function answerInline(
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  sessionId: string,
  callInline: InlineToolCall,
): Promise<boolean> {
  if (req.method !== 'POST' || !isToolCall(body)) return false;
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  // The media type itself, as the SDK reads it: `text/plain; charset=application/json` is not JSON.
  if (mediaType(req.headers['content-type']) !== 'application/json') return false;
  const version = req.headers['mcp-protocol-version'];
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) return false;
  const pending = callInline(body.params.name, body.params.arguments);
  if (!pending) return false;
  const payload = JSON.stringify({ jsonrpc: '2.0', id: body.id, result: await pending });
  res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': sessionId });
  res.end(payload);
  return true;
}

function isToolCall(body: unknown): body is ToolCallRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const m = body as Record<string, unknown>;
  const params = m.params as Record<string, unknown> | undefined;
  return (
    m.jsonrpc === '2.0' &&
    m.method === 'tools/call' &&
    (typeof m.id === 'string' || (typeof m.id === 'number' && Number.isInteger(m.id))) &&
    typeof params === 'object' &&
    params !== null &&
    typeof params.name === 'string'
  );
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}
