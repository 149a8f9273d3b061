import { defineCliSuite } from './support/scenarios.js';

// Real OpenCode as a cao-mcp worker (provider opencode), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'opencode',
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
  turnMs: 180_000,
});
