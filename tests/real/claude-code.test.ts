import { defineCliSuite } from './support/scenarios.js';

// Real Claude Code as a cao-mcp worker (provider claude_code), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'claude',
  // AskUserQuestion opens its dialog even with --dangerously-skip-permissions (the mode our provider launches in)
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'AskUserQuestion',
      arguments: {
        questions: [
          {
            question: 'Which colour should the button be?',
            header: 'Colour',
            multiSelect: false,
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
});
