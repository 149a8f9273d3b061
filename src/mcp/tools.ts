import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { z, type ZodRawShape } from 'zod';
import { MAX_MESSAGE_BYTES, type AgentView, type Caller, type Flows, type InboxMessage } from '../flows/index.js';
import { snakeCaseKeys } from '../util/case.js';
import { VERSION } from '../util/version.js';
import { registerHandoff, type LostRequests } from './handoff-tool.js';
import { hubTasks, type HandoffTasks } from './tasks.js';
import { run, structured, workerArgs, workerRequest, worktreeWire } from './wire.js';

/**
 * Calls a quick tool (one that needs no progress, no cancellation and has no output schema) without the SDK's
 * request machinery; null when `name` is not such a tool or `args` do not fit its schema, so that the SDK
 * answers instead, with its own error.
 */
export type InlineToolCall = (name: string, args: unknown) => Promise<CallToolResult> | null;

/** What createMcpServer makes for one session. */
export interface CaoMcpServer {
  server: McpServer;
  dispose: () => void;
  callInline: InlineToolCall;
  /**
   * The transport lost the stream that would carry the answer to request `id` (an HTTP client went away without
   * cancelling): a blocking handoff on it stops waiting and leaves its worker running (see handoff-tool.ts).
   */
  requestLost: (id: RequestId) => void;
}

/**
 * Builds the MCP server for one caller; every transport (stdio, HTTP, a worker's forwarder) uses this. The wire
 * shapes (snake_case, as the tools are documented) are translated here to the flows' and back; nothing else.
 * `tasks`: where task-augmented handoffs live (default: the one store of this process, shared by every session).
 */
export function createMcpServer(flows: Flows, caller: Caller, tasks: HandoffTasks = hubTasks()): CaoMcpServer {
  const server = new McpServer(
    { name: 'cao-mcp', version: VERSION },
    {
      capabilities: { logging: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore: tasks.storeFor(caller.id),
    },
  );
  const lost: LostRequests = new Map();
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

  registerHandoff(server, flows, caller, tasks, lost);

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
        return structured({
          success: true,
          terminal_id: r.terminalId,
          provider: r.provider,
          profile: r.profile,
          warm: r.warm,
          worktree: worktreeWire(r.worktree),
          ...(r.host !== undefined ? { host: r.host } : {}),
        });
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
    async (args) =>
      run(async () => structured({ agents: (await flows.listAgents({ includeEnded: args.include_ended })).map((a) => agentWire(a, caller)) })),
  );

  quickTool(
    'list_hosts',
    {
      title: 'List the hosts (many machines)',
      description:
        'When hubs on several machines share one PostgreSQL database: every host with its state (live, stopped, dead), capacity, workers, labels and last heartbeat; `host` on handoff and assign names one. On one machine: an empty list and a note.',
      inputSchema: {},
    },
    async () =>
      run(async () => {
        const hosts = await flows.hosts();
        if (!hosts)
          return structured({ hosts: [], note: 'one machine: this hub does not share a PostgreSQL database (CAO_DATABASE_URL) with others' });
        return structured({
          hosts: hosts.map((h) => ({
            name: h.name,
            state: h.state,
            capacity: h.capacity,
            workers: h.workers,
            reserved: h.reserved,
            labels: h.labels,
            last_heartbeat: new Date(h.heartbeatAt).toISOString(),
            ...(h.reason ? { reason: h.reason } : {}),
            ...(h.self ? { this_host: true } : {}),
          })),
        });
      }),
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

  server.registerTool(
    'read_trace',
    {
      title: 'Read the journal of a run',
      description:
        'The journal of one run (a tree of delegations: your handoff or assign, what that worker started, and so on): each agent with who started it, how (handoff or assign), how that ended, and its timeline of events (created, ready, status changes with their cause, input kinds and sizes, messages queued/claimed/delivered/failed, questions, ended). Never message or task text. run_or_terminal_id: a run id, a terminal id of the run, or a supervisor name (its last run); default: your own run (a worker), or the last run you started. Only runs you are in.',
      inputSchema: { run_or_terminal_id: z.string().optional() },
    },
    async (args) => run(async () => structured(snakeCaseKeys(await flows.readTrace(caller, args.run_or_terminal_id)) as Record<string, unknown>)),
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
  return { server, dispose, callInline, requestLost: (id) => lost.get(id)?.() };
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
    ...(a.status === 'waiting_user_answer' && a.question !== null ? { question: a.question } : {}),
    ...(a.warm ? { warm: true } : {}),
    ...(a.worktree ? { worktree: worktreeWire(a.worktree) } : {}),
    ...(a.host ? { host: a.host } : {}),
  };
}

function publicMessage(m: InboxMessage) {
  return { id: m.id, sender_id: m.senderId, kind: m.kind, body: m.body, status: m.status, created_at: new Date(m.createdAt).toISOString() };
}
