import { defineCliSuite } from './support/scenarios.js';

// Real Qwen Code as a cao-mcp worker (provider qwen_code), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'qwen',
  // Tool approvals are off (the provider runs it with --yolo), but its ask_user_question tool still opens a list
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'ask_user_question',
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
  delegationNote: /not your built-in `agent` tool/,
  turnMs: 180_000,
});
