import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
  type CallToolRequest,
  type CallToolResult,
  type ProgressToken,
  type RequestId,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Caller, Flows, ProgressFn } from '../flows/index.js';
import { TERMINAL_META_KEY, type HandoffTasks } from './tasks.js';
import { handoffWire, run, structured, workerArgs, workerRequest, worktreeOutput } from './wire.js';

/** Request ids of blocking handoffs in flight → what to do when the transport lost the stream of their answer. */
export type LostRequests = Map<RequestId, () => void>;

const handoffInput = {
  ...workerArgs,
  message: z.string().describe('The task, complete and self-contained (the worker does not see your conversation).'),
  timeout: z.number().int().min(1).max(3600).optional().describe('Seconds to wait for the answer (default 600).'),
};
const handoffOutput = {
  success: z.boolean(),
  output: z.string().describe("The worker's final answer (partial on timeout)."),
  terminal_id: z.string().nullable(),
  provider: z.string().nullable(),
  duration_ms: z.number(),
  message: z.string(),
  status: z.string().optional(),
  warm: z.boolean().describe('Served by a warm spare worker, started before this call.'),
  timings: z
    .object({
      spawn_ms: z.number().nullable(),
      first_output_ms: z.number().nullable(),
      ready_ms: z.number().nullable(),
      tools_ms: z.number().nullable(),
      submitted_ms: z.number().nullable(),
      finished_ms: z.number().nullable(),
    })
    .describe("Where the time went, ms since the call began (null: not part of this call, e.g. a warm worker's start-up)."),
  worktree: worktreeOutput,
  host: z.string().optional().describe('Many machines: the host it ran on.'),
};
type HandoffArgs = z.infer<z.ZodObject<typeof handoffInput>>;
type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Progress = Parameters<ProgressFn>[0];

/** The SDK's McpServer members this file steers (present in @modelcontextprotocol/sdk 1.32; checked at start). */
interface SdkToolInternals {
  handleAutomaticTaskPolling: (tool: unknown, request: CallToolRequest, extra: Extra) => Promise<CallToolResult>;
  validateToolInput: (tool: unknown, args: unknown, name: string) => Promise<unknown>;
  validateToolOutput: (tool: unknown, result: CallToolResult, name: string) => Promise<void>;
}

const description =
  'Starts a worker agent CLI with the given profile, gives it the task, waits until it has finished, returns its final answer, and shuts it down. Blocking; sends progress notifications while it waits (each names the worker\'s terminal id, also in _meta["cao-mcp/terminal_id"]). Can run as an MCP task (task-augmented call): then poll tasks/get and fetch tasks/result, also from a new connection. On timeout the worker is left running and its terminal id and partial answer are returned. If the connection drops without a cancellation, the worker keeps working: read its answer with read_output(terminal_id, wait_seconds).';

/**
 * The `handoff` tool, blocking or as an MCP task (execution.taskSupport "optional").
 *
 * Blocking (no `task` in the request): the answer comes in the response, with progress notifications. What stops
 * the worker early is a cancellation: notifications/cancelled for this request. The SDK aborts `extra.signal` on
 * that (Protocol._oncancel) but also on the end of the transport (Protocol._onclose: every handler in flight, with
 * no reason, right before it forgets the transport); so an abort is a cancellation only when the server is still
 * connected once the abort has run. Otherwise, and when the HTTP front reports that the client dropped the stream
 * of this request's answer (`lost`; the SDK does not abort anything then), the handoff detaches: the worker keeps
 * working and is left running for read_output.
 *
 * As a task: the work runs in the hub, outside any request; the result is kept in `tasks` (hub-wide, per caller);
 * only tasks/cancel stops it.
 */
export function registerHandoff(server: McpServer, flows: Flows, caller: Caller, tasks: HandoffTasks, lost: LostRequests): void {
  const request = (args: HandoffArgs) => ({ ...workerRequest(args), message: args.message, timeoutSec: args.timeout });
  const progressNote = (p: Progress, token: ProgressToken, taskId?: string): ServerNotification => ({
    method: 'notifications/progress',
    params: {
      progressToken: token,
      progress: Math.round(p.elapsedMs / 1000),
      total: Math.round(p.totalMs / 1000),
      message: p.message,
      _meta: { [TERMINAL_META_KEY]: p.terminalId, ...(taskId ? { [RELATED_TASK_META_KEY]: { taskId } } : {}) },
    },
  });

  const blocking = (args: HandoffArgs, extra: Extra): Promise<CallToolResult> =>
    run(async () => {
      const token = extra._meta?.progressToken;
      const cancel = new AbortController();
      const detach = new AbortController();
      const onAbort = () => queueMicrotask(() => (server.isConnected() ? cancel : detach).abort());
      extra.signal.addEventListener('abort', onAbort, { once: true });
      lost.set(extra.requestId, () => detach.abort());
      try {
        const r = await flows.handoff(caller, request(args), {
          progress: token === undefined ? undefined : (p) => void extra.sendNotification(progressNote(p, token)).catch(() => undefined),
          signal: cancel.signal,
          detach: detach.signal,
        });
        return structured(handoffWire(r), !r.success);
      } finally {
        extra.signal.removeEventListener('abort', onAbort);
        lost.delete(extra.requestId);
      }
    });

  const asTask = (args: HandoffArgs, taskId: string, token: ProgressToken | undefined): void => {
    const progress: ProgressFn = (p) => {
      tasks.note(taskId, p.message, p.terminalId);
      // After the CreateTaskResult the request is over: progress goes out as a standalone notification, if anyone listens.
      if (token !== undefined && server.isConnected()) void server.server.notification(progressNote(p, token, taskId)).catch(() => undefined);
    };
    void run(async () => {
      const r = await flows.handoff(caller, request(args), { progress, signal: tasks.cancelSignal(taskId) });
      return structured(handoffWire(r), !r.success);
    }).then((result) => {
      const task = tasks.finish(taskId, result.isError ? 'failed' : 'completed', result);
      if (task && server.isConnected())
        void server.server.notification({ method: 'notifications/tasks/status', params: task }).catch(() => undefined);
    });
  };

  server.experimental.tasks.registerToolTask(
    'handoff',
    {
      title: 'Hand a task to a new worker agent and wait for its answer',
      description,
      inputSchema: handoffInput,
      outputSchema: handoffOutput,
      execution: { taskSupport: 'optional' },
    },
    {
      createTask: async (args, extra) => {
        const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl });
        asTask(args, task.taskId, extra._meta?.progressToken);
        return { task };
      },
      getTask: async (_args, extra) => {
        const task = tasks.get(caller.id, extra.taskId);
        if (!task) throw new McpError(ErrorCode.InvalidParams, `Task not found: ${extra.taskId}`);
        return task;
      },
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );

  // A call without `task` would go to the SDK's automatic polling (create a task, poll it every pollInterval):
  // it takes the blocking path instead, with the SDK's own input and output validation, exactly as a plain tool.
  const sdk = server as unknown as Partial<SdkToolInternals>;
  const { handleAutomaticTaskPolling, validateToolInput, validateToolOutput } = sdk;
  if (typeof handleAutomaticTaskPolling !== 'function' || typeof validateToolInput !== 'function' || typeof validateToolOutput !== 'function')
    throw new Error('cao-mcp: this @modelcontextprotocol/sdk has no McpServer.handleAutomaticTaskPolling/validateToolInput/validateToolOutput');
  sdk.handleAutomaticTaskPolling = async (tool, req, extra) => {
    if (req.params.name !== 'handoff') return handleAutomaticTaskPolling.call(server, tool, req, extra);
    const args = (await validateToolInput.call(server, tool, req.params.arguments, 'handoff')) as HandoffArgs;
    const result = await blocking(args, extra);
    await validateToolOutput.call(server, tool, result, 'handoff');
    return result;
  };
}
