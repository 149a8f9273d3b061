import { defineCliSuite } from './support/scenarios.js';

// Real Gemini CLI as a cao-mcp worker (provider gemini_cli), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'gemini',
  // Tool confirmations are off (the provider runs it in yolo mode), but its ask_user tool still opens a dialog
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'ask_user',
      arguments: {
        questions: [
          {
            question: 'Which colour should the button be?',
            header: 'Colour',
            type: 'choice',
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
