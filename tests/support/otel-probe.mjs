// Loaded into a cao-mcp process with NODE_OPTIONS=--import=…: at exit, writes the OpenTelemetry files that process
// loaded (the SDK is CommonJS: every file of it imported is in the require cache) to $CAO_TEST_OTEL_PROBE.<pid>.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const out = process.env.CAO_TEST_OTEL_PROBE;
if (out)
  process.on('exit', () => {
    const loaded = Object.keys(require.cache).filter((f) => f.includes('/@opentelemetry/'));
    writeFileSync(`${out}.${process.pid}`, loaded.join('\n'));
  });
