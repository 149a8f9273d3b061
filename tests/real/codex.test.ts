import { defineCliSuite } from './support/scenarios.js';

// Real Codex as a cao-mcp worker (provider codex), against the fake model. Run: bash scripts/test-real.sh
defineCliSuite({
  cli: 'codex',
  // Our provider launches Codex with --dangerously-bypass-approvals-and-sandbox: no approval is ever asked. Its only
  // blocking question tool, request_user_input, answers "unavailable in Default mode" (Plan mode only, and nothing
  // puts a worker in Plan mode); request_user_input_async shows the question in the transcript and ends the turn,
  // the answer coming back as the next user message.
  question: {
    kind: 'none',
    why: 'approvals bypassed, request_user_input is Plan-mode only',
    calls: [
      {
        toolCall: {
          name: 'request_user_input',
          arguments: {
            questions: [
              {
                id: 'colour',
                header: 'Colour',
                question: 'Which colour should the button be?',
                options: [
                  { label: 'Red', description: 'warm' },
                  { label: 'Blue', description: 'cool' },
                ],
              },
            ],
          },
        },
        result: /request_user_input is unavailable in Default mode/,
      },
      {
        toolCall: {
          name: 'request_user_input_async',
          arguments: { questions: [{ title: 'Which colour should the button be?', options: ['Red', 'Blue'] }] },
        },
        result: /"accepted":\s*true/,
      },
    ],
  },
});
