// Marks the built CLI entry points executable (tsc does not keep modes).
import { chmodSync, existsSync } from 'node:fs';
for (const f of ['dist/cli/main.js', 'dist/mock/agent.js']) {
  if (existsSync(f)) chmodSync(f, 0o755);
}
