// The three-level delegation chain the journal, telemetry and dashboard tests run with mock workers:
// boss → handoff A; A assigns B; B hands off to C, then reports to boss by name.
export const mock = { agent_profile: 'developer', provider: 'mock' };

export const CHAIN_RULES = [
  { match: 'level-A', toolCalls: [{ tool: 'assign', arguments: { ...mock, message: 'level-B task' } }], answer: 'A-DONE' },
  {
    match: 'level-B',
    toolCalls: [
      { tool: 'handoff', arguments: { ...mock, message: 'level-C task' } },
      { tool: 'send_message', arguments: { receiver_id: 'boss', message: 'B-DONE' } },
    ],
    answer: 'B-DONE',
  },
  { match: 'level-C', answer: 'C-DONE' },
];
