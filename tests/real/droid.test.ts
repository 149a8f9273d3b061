import { defineCliSuite } from './support/scenarios.js';

// Real Factory Droid (air-gapped mode, BYOK Chat Completions model) as a cao-mcp worker (provider droid), against the
// fake model. Run: bash scripts/test-real.sh tests/real/droid.test.ts
defineCliSuite({
  cli: 'droid',
  // Commands are auto-approved (the provider starts it with --auto high), but its AskUser tool opens a questionnaire
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'AskUser',
      arguments: { questionnaire: '1. [question] Which colour should the button be?\n[topic] Colour\n[option] Red\n[option] Blue' },
    },
    question: /Which colour should the button be\?/,
  },
  delegationNote: /not your built-in `Task` tool/,
  turnMs: 180_000,
});
