/** Which wire format a request spoke. */
export type WireApi = 'anthropic' | 'responses' | 'chat' | 'gemini';

/** A substring, or a regex, tested against the last user message text (or the tool result being returned). */
export type TurnMatch = string | RegExp;

export interface TextTurn {
  match?: TurnMatch;
  text: string;
  /** Wait this long after the response started before the first chunk (the client looks busy meanwhile). */
  delayMs?: number;
  /** Number of pieces the text is streamed in, or the exact pieces (then `text` is only used for logs). Default 3. */
  chunks?: number | string[];
  /** Pause between pieces. Default 40 ms. */
  chunkIntervalMs?: number;
}

export interface ToolCallTurn {
  match?: TurnMatch;
  /** `name` is matched by suffix against the tools the client offered (`send_message` matches `mcp__cao__send_message`). */
  toolCall: { name: string; arguments: Record<string, unknown> };
  delayMs?: number;
  /** What answers the follow-up request that carries the tool result: text, or a whole turn (e.g. another tool call). Default: the script default. */
  afterTool?: string | FakeTurn;
}

export interface ErrorTurn {
  match?: TurnMatch;
  /** Answered as an HTTP error in the API's own error shape. Note clients retry 429/5xx, each retry takes another turn. */
  error: { status: number; message: string };
  delayMs?: number;
}

export type FakeTurn = TextTurn | ToolCallTurn | ErrorTurn;

export interface FakeScript {
  turns: FakeTurn[];
  /** Answer when no turn fits. Default: text "OK". */
  default?: FakeTurn;
}

/** Parsed view of one request, common to all wire formats. */
export interface ParsedRequest {
  api: WireApi;
  model: string;
  stream: boolean;
  /** Text of the last user message (empty if the last message is a tool result). */
  lastUserText: string;
  /** Set when the request's last input is a tool result: the call id and the result text. */
  toolResult?: { callId: string; text: string };
  /** Names of the tools the client offered, as the model must call them. */
  toolNames: string[];
  /** System prompt text (joined), used for side-call detection. */
  system: string;
  /** A scripted tool that is deferred (not offered yet): the search call that loads it first (Factory Droid). */
  deferredTool?: (wanted: string) => { search: { name: string; arguments: Record<string, unknown> }; name: string } | undefined;
  /** Wire-specific tool resolution (Codex code mode); falls back to suffix matching over `toolNames`. */
  resolveTool?: (wanted: string) => string | undefined;
  /** Why this is a side call (title, routing, quota…), undefined for a real turn. */
  sideCall?: string;
  raw: any;
}

export interface LoggedRequest {
  method: string;
  path: string;
  body: any;
}

/** What the server decided for one model request. */
export interface LogEntry {
  at: number;
  api: WireApi;
  path: string;
  /** `turn` = took a script turn (or the default), `after-tool` = answered a tool result, `side` = side call. */
  kind: 'turn' | 'after-tool' | 'side';
  sideCall?: string;
  /** Index into script.turns, or -1 for the default / a non-script answer. */
  turnIndex: number;
  lastUserText: string;
  toolResult?: { callId: string; text: string };
  toolNames: string[];
  answer:
    | { text: string }
    | { toolCall: { name: string; arguments: Record<string, unknown>; callId: string; via?: 'code-mode' } }
    | { error: { status: number; message: string } }
    | { json: unknown };
}
