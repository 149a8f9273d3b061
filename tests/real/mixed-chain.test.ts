import { describe, expect, it } from 'vitest';
import { waitNoProcessesWithEnv } from '../support/real-clis/index.js';
import { mcpCall, readInbox } from './support/scenarios.js';
import { versionOf, withRealHub } from './support/hub.js';
import { recordTiming } from './support/timings.js';

// A real Claude Code supervisor, started by cao-mcp, hands a task to a real Codex worker through our `handoff` tool,
// gets the Codex answer back as the tool result, and reports it to its own supervisor (the test) with
// `send_message`. One fake model scripts both CLIs. Run: bash scripts/test-real.sh

const CODEX_ANSWER = 'CODEX-CHAIN-ANSWER-7731';
const REPORT = `SUPERVISOR-REPORT: the codex worker answered ${CODEX_ANSWER}`;

describe(`mixed chain: claude_code ${versionOf('claude')} supervisor → codex ${versionOf('codex')} worker`, () => {
  it('the Claude supervisor hands off to Codex, gets its answer back and reports it', async () => {
    const script = {
      turns: [
        // the supervisor's task: handoff to a Codex developer, then report what came back
        mcpCall(
          'claude',
          {
            name: 'handoff',
            arguments: { agent_profile: 'developer', provider: 'codex', message: 'codex chain task: say the chain answer', timeout: 300 },
          },
          { toolCall: { name: 'send_message', arguments: { message: REPORT } }, afterTool: 'SUPERVISOR-DONE' },
          'coordinate the chain',
        ),
        // the Codex worker's task
        { match: 'codex chain task', text: CODEX_ANSWER, delayMs: 500 },
      ],
    };
    await withRealHub(['claude', 'codex'], 'mixed-chain', script, async (h) => {
      const t0 = Date.now();
      const { terminal_id: sup } = await h.ok<{ terminal_id: string }>('assign', {
        agent_profile: 'code_supervisor',
        provider: 'claude_code',
        message: 'please coordinate the chain',
      });
      const got = await readInbox(h, 1, 240_000);
      recordTiming('claude+codex', 'chain: assign→report', Date.now() - t0);
      expect(got.map((m) => [m.sender_id, m.body])).toEqual([[sup, REPORT]]);

      // the Codex worker answered the fake model's scripted turn, over the Responses API
      const codexTurn = h.fm.log.find((e) => e.api === 'responses' && e.kind === 'turn');
      expect(codexTurn?.answer).toEqual({ text: CODEX_ANSWER });
      expect(codexTurn?.lastUserText).toContain('codex chain task');
      // the Claude supervisor called our handoff tool and sent its result back to the model: the Codex answer
      const call = h.fm.log.find((e) => e.api === 'anthropic' && 'toolCall' in e.answer && e.answer.toolCall.name === 'mcp__cao__handoff');
      expect(call, 'the supervisor called mcp__cao__handoff').toBeDefined();
      const callId = (call!.answer as { toolCall: { callId: string } }).toolCall.callId;
      const result = h.fm.log.find((e) => e.api === 'anthropic' && e.toolResult?.callId === callId);
      // (Claude Code passes the tool's structured content on, as JSON)
      expect(JSON.parse(result?.toolResult?.text ?? 'null')).toMatchObject({
        success: true,
        output: CODEX_ANSWER,
        provider: 'codex',
        terminal_id: expect.any(String),
      });

      // the Codex worker was the supervisor's, and the handoff ended it (right after its answer went out) with all its processes
      const codex = (await h.agents(true)).find((a) => a.provider === 'codex');
      expect(codex).toMatchObject({ creator: sup });
      await h.waitStatus(codex!.id, (s) => s === 'exited', 15_000, 'the handoff worker ended');
      expect((await h.agents(true)).find((a) => a.id === codex!.id)).toMatchObject({ ended: true, status: 'exited' });
      expect(await waitNoProcessesWithEnv('CAO_TERMINAL_ID', codex!.id, 10_000)).toEqual([]);
      // the supervisor's own final answer
      await h.waitStatus(sup, (s) => s === 'completed', 60_000, 'supervisor completed');
      expect(await h.ok<{ output: string }>('read_output', { terminal_id: sup })).toMatchObject({ output: 'SUPERVISOR-DONE' });
    });
  });
});
