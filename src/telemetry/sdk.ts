// Loaded only when the export is on (index.ts imports it dynamically): a normal start-up never reads these packages.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Bus } from '../bus/bus.js';
import { VERSION } from '../util/version.js';
import type { TelemetryConfig } from './config.js';
import { RunTraceIds } from './ids.js';
import { RunSpans, type TerminalLookup } from './spans.js';
import type { Telemetry } from './index.js';
import { logger } from '../util/log.js';

/** How long the hub's stop waits for the last export (a collector that is down must not hold the stop). */
const SHUTDOWN_MS = 5000;
/** The SDK's own errors (an export that failed): one line on stderr a minute at most. */
const ERROR_EVERY_MS = 60_000;

function quietLogger() {
  let last = 0;
  const error = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - last < ERROR_EVERY_MS) return;
    last = now;
    logger('telemetry').warn({ detail: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') }, `OpenTelemetry: ${message}`);
  };
  const none = () => undefined;
  return { error, warn: none, info: none, debug: none, verbose: none };
}

/**
 * The tracer provider (batching, OTLP over HTTP with JSON, configured by the standard OTEL_* variables), and the
 * run consumer on the bus. `exporter` replaces the OTLP exporter (tests).
 */
export function openTelemetry(bus: Bus, lookup: TerminalLookup, config: TelemetryConfig, exporter?: SpanExporter): Telemetry {
  diag.setLogger(quietLogger(), DiagLogLevel.ERROR);
  const ids = new RunTraceIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(exporter ?? new OTLPTraceExporter())],
  });
  const spans = new RunSpans(bus, provider.getTracer('cao-mcp', VERSION), ids, lookup);
  process.stderr.write(`cao-mcp: OpenTelemetry trace export on (service ${config.serviceName})\n`);
  let stopped: Promise<void> | null = null;
  return {
    flush: () => provider.forceFlush(),
    shutdown: (note?: string) =>
      (stopped ??= (async () => {
        spans.close(note);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((res) => (timer = setTimeout(res, SHUTDOWN_MS)));
        await Promise.race([provider.shutdown().catch((e: Error) => logger('telemetry').warn({ error: e.message }, 'OpenTelemetry shutdown')), late]);
        clearTimeout(timer);
      })()),
  };
}
