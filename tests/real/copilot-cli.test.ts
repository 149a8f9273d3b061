import { defineCliSuite } from './support/scenarios.js';

// Real GitHub Copilot CLI (offline mode, BYOK provider) as a cao-mcp worker (provider copilot_cli), against the fake
// model. Run: bash scripts/test-real.sh tests/real/copilot-cli.test.ts
defineCliSuite({
  cli: 'copilot',
  // Tool permissions are off (the provider runs it with --yolo), but its ask_user tool still opens a form
  question: {
    kind: 'dialog',
    toolCall: {
      name: 'ask_user',
      arguments: {
        message: 'Which colour should the button be?',
        requestedSchema: { properties: { colour: { type: 'string', title: 'Colour', enum: ['Red', 'Blue'] } }, required: ['colour'] },
      },
    },
    question: /Which colour should the button be\?/,
  },
  delegationNote: /not your built-in `task` tool/,
  turnMs: 180_000,
});
