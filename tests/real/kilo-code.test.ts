import { defineCliSuite } from './support/scenarios.js';

// Real Kilo Code CLI as a cao-mcp worker (provider kilo_code), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'kilo',
  // Permission requests are auto-approved (the provider starts it with --auto), but its question tool opens a panel
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'question',
      arguments: {
        questions: [
          {
            question: 'Which colour should the button be?',
            header: 'Colour',
            options: [
              { label: 'Red', description: 'warm' },
              { label: 'Blue', description: 'cool' },
            ],
          },
        ],
      },
    },
    question: /Which colour should the button be\?/,
  },
  delegationNote: /not your built-in `task` tool/,
  turnMs: 240_000,
});
