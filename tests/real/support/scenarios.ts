import { describe, expect, it } from 'vitest';
import type { FakeTurn, ToolCallTurn } from '../../support/fake-model/index.js';
import { waitNoProcessesWithEnv, type AnyCli } from '../../support/real-clis/index.js';
import { pidsWithEnv, PROVIDER_OF, textOf, versionOf, withRealHub, type RealHub } from './hub.js';
import { processesWithArgvContaining, tokenOfTerminal } from '../../support/argv-scan.js';
import { recordTiming } from './timings.js';

/**
 * The four end-to-end scenarios every provider must pass on its real CLI, mirroring tests/handoff-stdio.test.ts
 * and tests/inbox-e2e.test.ts (which run them on the mock agent): handoff, a second turn, a worker calling our
 * send_message, and a question dialog answered through answer_question.
 */

/** How one CLI lets its model ask the user something, as the fake model scripts it. */
export type QuestionSpec =
  | {
      kind: 'dialog';
      /** The model's tool call that opens a question dialog in the TUI. */
      toolCall: ToolCallTurn['toolCall'];
      /** What list_agents must show as the question. */
      question: RegExp;
    }
  | {
      /** The CLI has no way at all for its model to ask the user (no question tool, no dialogs): checked on the handoff run. */
      kind: 'absent';
      why: string;
    }
  | {
      /** The CLI cannot be made to block on a question under our launch flags; `why` says why (kept in the test name). */
      kind: 'none';
      why: string;
      /**
       * Tool calls made in a row, each with the tool result the CLI must send back for it: the blocking question
       * tool refused, then one that reaches the user without blocking (its question ends up in the transcript).
       */
      calls: Array<{ toolCall: ToolCallTurn['toolCall']; result: RegExp }>;
    };

export interface CliSpec {
  cli: AnyCli;
  question: QuestionSpec;
  /** Generous bound for one worker to start and finish a scripted turn. */
  turnMs?: number;
  /**
   * The CLI has its own sub-agent tool: the worker must be told (system prompt) to delegate through cao's tools
   * instead. Checked on the handoff run: this text reaches the model in the CLI's request.
   */
  delegationNote?: RegExp;
}

/**
 * A scripted call of one of our MCP tools. Claude Code 2.1 connects its MCP servers in the background: a task typed
 * as soon as its prompt shows can reach a turn where `mcp__cao__*` are not offered yet, only `WaitForMcpServers`
 * (see the report: cao-mcp types the task before the worker's MCP server is up). A real model then calls
 * WaitForMcpServers first, as Claude's tool description tells it to; so does this script. When the tools are
 * already there, Claude answers that call with a "no such tool" result and the script goes on all the same.
 */
export function mcpCall(cli: AnyCli, toolCall: ToolCallTurn['toolCall'], afterTool: string | FakeTurn, match?: string): FakeTurn {
  const call: ToolCallTurn = { toolCall, afterTool };
  if (cli !== 'claude') return { ...call, match };
  return { match, toolCall: { name: 'WaitForMcpServers', arguments: {} }, afterTool: call };
}

/** Polls read_inbox until `n` messages arrived (or `ms` passed). */
export async function readInbox(h: RealHub, n: number, ms: number): Promise<Array<{ sender_id: string; body: string }>> {
  const got: Array<{ sender_id: string; body: string }> = [];
  const until = Date.now() + ms;
  while (got.length < n && Date.now() < until) {
    const wait = Math.max(1, Math.min(30, Math.round((until - Date.now()) / 1000)));
    const r = await h.ok<{ messages: Array<{ sender_id: string; body: string }> }>('read_inbox', { wait_seconds: wait }, (wait + 30) * 1000);
    got.push(...r.messages);
  }
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function defineCliSuite(spec: CliSpec): void {
  const { cli } = spec;
  const provider = PROVIDER_OF[cli];
  const version = versionOf(cli);
  const turnMs = spec.turnMs ?? 120_000;
  const tag = (s: string) => `${cli}-${s}`;

  describe(`${provider} on the real ${cli} ${version}`, () => {
    it(`${provider}: handoff returns exactly the scripted answer and leaves no worker process`, async () => {
      const answer = `PONG-${cli}-1`;
      await withRealHub(
        [cli],
        tag('handoff'),
        { turns: [{ match: 'say ping', text: answer, delayMs: 800, chunks: 3, chunkIntervalMs: 60 }] },
        async (h) => {
          const t0 = Date.now();
          const r = await h.call('handoff', { agent_profile: 'developer', provider, message: 'please say ping' }, turnMs + 60_000);
          recordTiming(cli, 'handoff', Date.now() - t0);
          const sc = r.structuredContent as { success: boolean; output: string; terminal_id: string; provider: string; message: string };
          expect(r.isError, textOf(r)).toBeFalsy();
          expect(sc.success, sc.message).toBe(true);
          expect(sc.output).toBe(answer);
          expect(sc.provider).toBe(provider);
          expect(sc.terminal_id).toMatch(/^[0-9a-f]{8}$/);
          // the CLI, its MCP server (our forwarder) and anything they started: all gone
          expect(await waitNoProcessesWithEnv('CAO_TERMINAL_ID', sc.terminal_id, 10_000)).toEqual([]);
          const turns = h.fm.log.filter((e) => e.kind !== 'side');
          expect(turns.map((e) => e.answer)).toEqual([{ text: answer }]);
          // (its row ends once its stop has finished, right after the answer went out)
          await h.waitStatus(sc.terminal_id, (s) => s === 'exited', 15_000, 'the handoff worker ended');
          const agents = await h.agents(true);
          expect(agents.find((a) => a.id === sc.terminal_id)).toMatchObject({ ended: true, status: 'exited' });
          if (spec.question.kind === 'absent') {
            // ${spec.question.why}: none of the tools the CLI offered its model asks the user anything
            const offered = [...new Set(h.fm.log.flatMap((e) => e.toolNames))];
            expect(offered.length, 'the CLI offered tools').toBeGreaterThan(0);
            // (cao's own answer_question, offered through its MCP server, is for supervisors)
            expect(offered.filter((n) => !/^(?:mcp__)?cao[_-]/.test(n) && /question|ask_?user|askuser/i.test(n))).toEqual([]);
          }
          if (spec.delegationNote) {
            const told = h.fm.requests.some((r) => spec.delegationNote!.test(JSON.stringify(r.body ?? '')));
            expect(told, 'the worker is told to delegate through cao, not its own sub-agents').toBe(true);
          }
        },
      );
    });

    it(`${provider}: a second turn (send_message to an idle worker) returns only the second answer`, async () => {
      const [a1, a2] = [`FIRST-${cli}-1`, `SECOND-${cli}-2`];
      const script = {
        turns: [
          { match: 'first task', text: a1, delayMs: 500 },
          { match: 'second task', text: a2, delayMs: 500 },
        ],
      };
      await withRealHub([cli], tag('second-turn'), script, async (h) => {
        const t0 = Date.now();
        const { terminal_id: id } = await h.ok<{ terminal_id: string }>('assign', {
          agent_profile: 'developer',
          provider,
          message: 'do the first task',
        });
        await h.fm.waitFor((e) => e.turnIndex === 0, turnMs);
        await h.waitStatus(id, (s) => s === 'completed', turnMs, 'completed first turn');
        const first = await h.ok<{ status: string; output: string }>('read_output', { terminal_id: id, wait_seconds: 5 });
        expect(first, JSON.stringify(first)).toMatchObject({ status: 'completed', output: a1 });
        recordTiming(cli, 'assign→first answer', Date.now() - t0);

        const t1 = Date.now();
        await h.ok('send_message', { receiver_id: id, message: 'now do the second task' });
        // the message is typed once the worker is ready; wait until the model got it, then for the turn's end
        await h.fm.waitFor((e) => e.turnIndex === 1, turnMs);
        const second = await h.ok<{ status: string; output: string }>(
          'read_output',
          { terminal_id: id, wait_seconds: turnMs / 1000 },
          turnMs + 30_000,
        );
        recordTiming(cli, 'second turn', Date.now() - t1);
        expect(second, JSON.stringify(second)).toMatchObject({ status: 'completed', output: a2 });
        const turns = h.fm.log.filter((e) => e.kind !== 'side');
        expect(turns.map((e) => e.answer)).toEqual([{ text: a1 }, { text: a2 }]);
        expect(turns[1].lastUserText).toContain('now do the second task');
        expect((await h.agents()).find((a) => a.id === id)?.pending_messages).toBe(0);
      });
    });

    it(`${provider}: an assigned worker's send_message tool call reaches the supervisor's inbox`, async () => {
      const report = `REPORT-${cli}-${Math.random().toString(36).slice(2, 8)}`;
      const script = { turns: [mcpCall(cli, { name: 'send_message', arguments: { message: report } }, `SENT-${cli}`, 'report back')] };
      await withRealHub([cli], tag('send-message'), script, async (h) => {
        const t0 = Date.now();
        const { terminal_id: id } = await h.ok<{ terminal_id: string }>('assign', {
          agent_profile: 'developer',
          provider,
          message: 'please report back',
        });
        const got = await readInbox(h, 1, turnMs);
        recordTiming(cli, 'assign→inbox', Date.now() - t0);
        expect(got.map((m) => [m.sender_id, m.body])).toEqual([[id, report]]);
        // the worker's token is in its environment (0400 to others), never on any process's command line (ps)
        const token = tokenOfTerminal(id);
        expect(token, 'the worker processes carry CAO_TOKEN in their environment').toBeTruthy();
        expect(pidsWithEnv('CAO_TERMINAL_ID', id).length, 'the CLI and its MCP server').toBeGreaterThanOrEqual(2);
        expect(processesWithArgvContaining(token!)).toEqual([]);
        // the tool ran once, and the worker saw its result
        const result = await h.fm.waitFor((e) => e.kind === 'after-tool' && /receiver_id/.test(e.toolResult?.text ?? ''), 30_000);
        expect(result.toolResult?.text).toMatch(/success\\?":\s*true/);
        await h.waitStatus(id, (s) => s === 'completed', turnMs, 'completed');
        expect(await h.ok<{ output: string }>('read_output', { terminal_id: id })).toMatchObject({ output: `SENT-${cli}` });
        expect((await readInbox(h, 1, 1000)).length).toBe(0);
      });
    });

    const q = spec.question;
    if (q.kind === 'dialog') {
      it(`${provider}: a question dialog shows as waiting_user_answer, holds messages back, and goes on after answer_question`, async () => {
        const script = {
          turns: [
            { match: 'ask me', toolCall: q.toolCall, afterTool: `ANSWERED-${cli}` },
            { match: 'follow-up note', text: `FOLLOWUP-${cli}`, delayMs: 300 },
          ],
        };
        await withRealHub([cli], tag('question'), script, async (h) => {
          const t0 = Date.now();
          const { terminal_id: id } = await h.ok<{ terminal_id: string }>('assign', {
            agent_profile: 'developer',
            provider,
            message: 'please ask me',
          });
          const waiting = await h.waitStatus(id, (s) => s === 'waiting_user_answer', turnMs, 'question');
          recordTiming(cli, 'assign→question', Date.now() - t0);
          expect(waiting.question).toMatch(q.question);
          expect(waiting.question).toMatch(/Red/);
          expect(waiting.question).toMatch(/Blue/);
          const out = await h.ok<{ status: string; question?: string }>('read_output', { terminal_id: id });
          expect(out.status).toBe('waiting_user_answer');
          expect(out.question).toMatch(q.question);
          // never typed into a dialog: a message waits until the question is answered
          await h.ok('send_message', { receiver_id: id, message: 'a follow-up note' });
          await sleep(2500);
          expect((await h.agents()).find((a) => a.id === id)).toMatchObject({ status: 'waiting_user_answer', pending_messages: 1 });
          expect(h.fm.log.some((e) => e.lastUserText.includes('follow-up note'))).toBe(false);

          const t1 = Date.now();
          await h.ok('answer_question', { terminal_id: id, answer: 'Blue' });
          const after = await h.fm.waitFor((e) => e.kind === 'after-tool', turnMs);
          expect(after.toolResult?.text).toMatch(/Blue/);
          expect(after.toolResult?.text).not.toMatch(/Red/);
          // then the held-back message is delivered: a turn of its own
          await h.fm.waitFor((e) => e.lastUserText.includes('follow-up note'), turnMs);
          await h.waitStatus(id, (s) => s === 'completed', turnMs, 'completed after the follow-up');
          recordTiming(cli, 'answer→done', Date.now() - t1);
          const done = await h.ok<{ status: string; output: string }>('read_output', { terminal_id: id, wait_seconds: 10 });
          expect(done, JSON.stringify(done)).toMatchObject({ status: 'completed', output: `FOLLOWUP-${cli}` });
          const turns = h.fm.log.filter((e) => e.kind !== 'side').map((e) => e.answer);
          expect(turns).toEqual([
            { toolCall: expect.objectContaining({ name: expect.any(String) }) },
            { text: `ANSWERED-${cli}` },
            { text: `FOLLOWUP-${cli}` },
          ]);
        });
      });
    } else if (q.kind === 'none') {
      it(`${provider}: cannot block on a question under cao-mcp's launch flags (${q.why}); a non-blocking question is answered with send_message`, async () => {
        let chain: FakeTurn = { text: `ASKED-${cli}` };
        for (const c of [...q.calls].reverse()) chain = { toolCall: c.toolCall, afterTool: chain };
        const script = {
          turns: [
            { ...chain, match: 'ask me' },
            { match: 'Blue', text: `ANSWERED-${cli}`, delayMs: 300 },
          ],
        };
        await withRealHub([cli], tag('question'), script, async (h) => {
          const { terminal_id: id } = await h.ok<{ terminal_id: string }>('assign', {
            agent_profile: 'developer',
            provider,
            message: 'please ask me',
          });
          await h.fm.waitFor((e) => 'text' in e.answer && e.answer.text === `ASKED-${cli}`, turnMs);
          const results = h.fm.log.filter((e) => e.kind === 'after-tool').map((e) => e.toolResult?.text ?? '');
          expect(results).toHaveLength(q.calls.length);
          q.calls.forEach((c, i) => expect(results[i]).toMatch(c.result));
          // the question sits in the transcript; the turn is over and nothing waits on a dialog
          await h.waitStatus(id, (s) => s === 'completed', turnMs, 'completed');
          const screen = await h.ok<{ output: string }>('read_output', { terminal_id: id, mode: 'screen' });
          expect(screen.output).toMatch(/Which colour should the button be\?/);
          expect(await h.ok<{ output: string }>('read_output', { terminal_id: id })).toMatchObject({ output: `ASKED-${cli}` });
          const refused = await h.call('answer_question', { terminal_id: id, answer: 'Blue' });
          expect(refused.isError).toBe(true);
          expect(textOf(refused)).toMatch(/not waiting for an answer \(it is completed\)/);
          // the answer goes in as a message: a new turn that sees it
          await h.ok('send_message', { receiver_id: id, message: 'Blue' });
          await h.fm.waitFor((e) => e.turnIndex === 1, turnMs);
          const done = await h.ok<{ status: string; output: string }>(
            'read_output',
            { terminal_id: id, wait_seconds: turnMs / 1000 },
            turnMs + 30_000,
          );
          expect(done, JSON.stringify(done)).toMatchObject({ status: 'completed', output: `ANSWERED-${cli}` });
        });
      });
    }
  });
}
