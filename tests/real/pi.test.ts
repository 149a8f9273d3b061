import { defineCliSuite } from './support/scenarios.js';

// Real pi (@mariozechner/pi-coding-agent) as a cao-mcp worker (provider pi), against the fake model; cao's MCP tools
// reach it through the provider's pi extension. Run: bash scripts/test-real.sh tests/real/pi.test.ts
defineCliSuite({
  cli: 'pi',
  question: { kind: 'absent', why: 'pi has no question tool and no dialogs, by design' },
});
