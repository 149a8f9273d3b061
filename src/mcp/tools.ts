import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z, type ZodRawShape } from 'zod';
import { MAX_MESSAGE_BYTES, PROVIDER_IDS, type AgentView, type Caller, type Flows, type HandoffResult, type InboxMessage } from '../flows/index.js';
import { isCaoError } from '../util/errors.js';
import { VERSION } from '../util/version.js';

const providerArg = z.enum(PROVIDER_IDS).optional().describe('Worker CLI to use; overrides the profile and CAO_PROVIDER.');
const workerArgs = {
  agent_profile: z.string().describe('Name of the agent profile (see list_profiles), e.g. "developer".'),
  working_directory: z.string().optional().describe("Directory the worker runs in (default: the caller's)."),
  provider: providerArg,
  model: z.string().optional().describe('Model for the worker CLI (overrides the profile).'),
};

const handoffOutput = {
  success: z.boolean(),
  output: z.string().describe("The worker's final answer (partial on timeout)."),
  terminal_id: z.string().nullable(),
  provider: z.string().nullable(),
  duration_ms: z.number(),
  message: z.string(),
  status: z.string().optional(),
};

/**
 * Calls a quick tool (one that needs no progress, no cancellation and has no output schema) without the SDK's
 * request machinery; null when `name` is not such a tool or `args` do not fit its schema, so that the SDK
 * answers instead, with its own error.
 */
export type InlineToolCall = (name: string, args: unknown) => Promise<CallToolResult> | null;

/**
 * Builds the MCP server for one caller; every transport (stdio, HTTP, a worker's forwarder) uses this. The wire
 * shapes (snake_case, as the tools are documented) are translated here to the flows' and back; nothing else.
 */
export function createMcpServer(flows: Flows, caller: Caller): { server: McpServer; dispose: () => void; callInline: InlineToolCall } {
  const server = new McpServer({ name: 'cao-mcp', version: VERSION }, { capabilities: { logging: {} } });
  const inline = new Map<string, { schema: z.ZodType; handler: (args: never) => Promise<CallToolResult> }>();
  /** Registers a quick tool with the SDK and keeps it callable inline (see InlineToolCall). */
  const quickTool = <S extends ZodRawShape>(
    name: string,
    config: { title: string; description: string; inputSchema: S },
    handler: (args: z.infer<z.ZodObject<S>>) => Promise<CallToolResult>,
  ): void => {
    server.registerTool(name, config, handler as never);
    inline.set(name, { schema: z.object(config.inputSchema), handler });
  };
  const callInline: InlineToolCall = (name, args) => {
    const tool = inline.get(name);
    const parsed = tool?.schema.safeParse(args ?? {});
    return tool && parsed?.success ? tool.handler(parsed.data as never) : null;
  };

  server.registerTool(
    'handoff',
    {
      title: 'Hand a task to a new worker agent and wait for its answer',
      description:
        'Starts a worker agent CLI with the given profile, gives it the task, waits until it has finished, returns its final answer, and shuts it down. Blocking; sends progress notifications while it waits. On timeout the worker is left running and its terminal id and partial answer are returned.',
      inputSchema: {
        ...workerArgs,
        message: z.string().describe('The task, complete and self-contained (the worker does not see your conversation).'),
        timeout: z.number().int().min(1).max(3600).optional().describe('Seconds to wait for the answer (default 600).'),
      },
      outputSchema: handoffOutput,
    },
    async (args, extra) =>
      run(async () => {
        const token = extra._meta?.progressToken;
        const r = await flows.handoff(
          caller,
          { ...workerRequest(args), message: args.message, timeoutSec: args.timeout },
          {
            progress:
              token === undefined
                ? undefined
                : (p) =>
                    void extra
                      .sendNotification({
                        method: 'notifications/progress',
                        params: {
                          progressToken: token,
                          progress: Math.round(p.elapsedMs / 1000),
                          total: Math.round(p.totalMs / 1000),
                          message: p.message,
                        },
                      })
                      .catch(() => undefined),
            signal: extra.signal,
          },
        );
        return structured(handoffWire(r), !r.success);
      }),
  );

  server.registerTool(
    'assign',
    {
      title: 'Start a worker agent on a task without waiting',
      description:
        'Starts a worker agent with the given profile and returns its terminal id at once. The task is delivered as soon as the worker is ready; the worker reports back to you with send_message (read it with read_inbox if you are not a cao-mcp terminal). If the worker fails to start or never takes the task, you get an inbox message saying so.',
      inputSchema: { ...workerArgs, message: z.string().describe('The task, complete and self-contained.') },
    },
    async (args) =>
      run(async () => {
        const r = await flows.assign(caller, { ...workerRequest(args), message: args.message });
        return structured({ success: true, terminal_id: r.terminalId, provider: r.provider, profile: r.profile });
      }),
  );

  quickTool(
    'send_message',
    {
      title: "Send a message to another agent's inbox",
      description: `Queues a message for another agent; it is delivered once that agent is ready for input (typed into its terminal, or kept in its inbox if it is not a cao-mcp terminal). No receiver_id = the agent that created you. Limit: ${MAX_MESSAGE_BYTES} bytes.`,
      inputSchema: {
        message: z.string().describe('The message text.'),
        receiver_id: z.string().optional().describe('Terminal id (or supervisor name) of the receiver; default: your creator.'),
      },
    },
    async (args) =>
      run(async () => {
        const r = await flows.sendMessage(caller, { message: args.message, receiverId: args.receiver_id });
        return structured({ success: true, message_id: r.messageId, receiver_id: r.receiverId });
      }),
  );

  server.registerTool(
    'read_inbox',
    {
      title: 'Read your inbox',
      description:
        "Returns messages sent to you (oldest first) and marks them delivered. For an agent that cao-mcp did not start (e.g. the user's own Claude Code), this is how messages from workers arrive. wait_seconds: wait up to that long for a first message.",
      inputSchema: {
        wait_seconds: z.number().min(0).max(3600).optional().describe('Wait up to this many seconds for a message (default 0).'),
        limit: z.number().int().min(1).max(200).optional(),
      },
    },
    async (args, extra) =>
      run(async () => {
        const rows = await flows.readInbox(caller, { waitSeconds: args.wait_seconds, limit: args.limit }, extra.signal);
        return structured({ count: rows.length, messages: rows.map(publicMessage) });
      }),
  );

  quickTool(
    'list_agents',
    {
      title: 'List worker agents',
      description:
        'Lists worker agents with id, profile, provider, status, creator, age and pending messages (and the question of any that waits for an answer).',
      inputSchema: { include_ended: z.boolean().optional() },
    },
    async (args) => run(async () => structured({ agents: flows.listAgents({ includeEnded: args.include_ended }).map((a) => agentWire(a, caller)) })),
  );

  server.registerTool(
    'read_output',
    {
      title: "Read an agent's output",
      description:
        'Returns an agent\'s last answer (mode "last", default), its visible screen ("screen") or all it kept ("full"), with its status. wait_seconds: first wait up to that long for it to finish its turn or ask a question. Only for agents you created (or their descendants).',
      inputSchema: {
        terminal_id: z.string(),
        mode: z.enum(['last', 'screen', 'full']).optional(),
        wait_seconds: z.number().min(0).max(3600).optional(),
      },
    },
    async (args, extra) =>
      run(async () => {
        const r = await flows.readOutput(caller, { terminalId: args.terminal_id, mode: args.mode, waitSeconds: args.wait_seconds }, extra.signal);
        return structured({ terminal_id: r.terminalId, status: r.status, output: r.output, ...('question' in r ? { question: r.question } : {}) });
      }),
  );

  server.registerTool(
    'answer_question',
    {
      title: "Answer a worker's pending question",
      description:
        'Answers the question or permission dialog a worker is waiting on (status waiting_user_answer): a number picks that option, other text is typed (one line, control characters removed) and submitted. Only for agents you created (or their descendants).',
      inputSchema: { terminal_id: z.string(), answer: z.string() },
    },
    async (args) =>
      run(async () => {
        const r = await flows.answerQuestion(caller, args.terminal_id, args.answer);
        return structured({ success: true, terminal_id: r.terminalId, status: r.status });
      }),
  );

  server.registerTool(
    'stop_agent',
    {
      title: 'Stop a worker agent',
      description:
        'Exits a worker agent and ends all its processes. Its undelivered messages are marked failed. Only for agents you created (or their descendants).',
      inputSchema: { terminal_id: z.string() },
    },
    async (args) =>
      run(async () => {
        const r = await flows.stopAgent(caller, args.terminal_id);
        return structured({ success: true, terminal_id: r.terminalId, stopped: r.stopped });
      }),
  );

  quickTool(
    'list_profiles',
    {
      title: 'List agent profiles',
      description: 'Lists the agent profiles available for handoff/assign, with description and provider.',
      inputSchema: { working_directory: z.string().optional() },
    },
    async (args) => run(async () => structured({ profiles: flows.listProfiles(caller, args.working_directory) })),
  );

  // An external supervisor has no terminal to type into: tell it when mail arrives.
  const dispose =
    caller.kind === 'external'
      ? flows.onMailFor(caller.id, (m) => {
          if (!server.isConnected()) return;
          void server.server
            .sendLoggingMessage({
              level: 'notice',
              logger: 'cao-inbox',
              data: { event: 'message', message_id: m.messageId, sender_id: m.senderId, hint: 'call read_inbox to read it' },
            })
            .catch(() => undefined);
        })
      : () => undefined;
  return { server, dispose, callInline };
}

function workerRequest(args: { agent_profile: string; working_directory?: string; provider?: string; model?: string }) {
  return { agentProfile: args.agent_profile, workingDirectory: args.working_directory, provider: args.provider, model: args.model };
}

function handoffWire(r: HandoffResult): Record<string, unknown> {
  return {
    success: r.success,
    output: r.output,
    terminal_id: r.terminalId,
    provider: r.provider,
    duration_ms: r.durationMs,
    message: r.message,
    ...(r.status !== undefined ? { status: r.status } : {}),
  };
}

function agentWire(a: AgentView, caller: Caller): Record<string, unknown> {
  return {
    id: a.id,
    profile: a.profile,
    provider: a.provider,
    status: a.status,
    creator: a.creator,
    created_by_you: a.creator === caller.id,
    working_directory: a.workingDirectory,
    age_seconds: a.ageSeconds,
    pending_messages: a.pending,
    ended: a.endedAt !== null,
    ...(a.lastError ? { last_error: a.lastError } : {}),
    ...(a.status === 'waiting_user_answer' && a.live ? { question: a.question } : {}),
  };
}

function publicMessage(m: InboxMessage) {
  return { id: m.id, sender_id: m.senderId, kind: m.kind, body: m.body, status: m.status, created_at: new Date(m.createdAt).toISOString() };
}

function structured(data: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: data, ...(isError ? { isError: true } : {}) };
}

/**
 * Runs a tool body. A refusal (CaoError) becomes an error result that starts with its code, then says what was
 * wrong: `Error: [worker_limit] worker limit reached: …`; anything else is an internal error (logged on stderr).
 */
async function run(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (e) {
    const known = isCaoError(e);
    if (!known) process.stderr.write(`cao-mcp: ${(e as Error).stack}\n`);
    const text = known ? `Error: [${e.code}] ${e.message}` : `Error: [internal] internal error: ${(e as Error).message}`;
    return { content: [{ type: 'text', text }], isError: true };
  }
}
