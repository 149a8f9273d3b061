import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Bus } from '../bus/bus.js';
import { telemetryConfig } from './config.js';
import type { TerminalLookup } from './spans.js';
import { logger } from '../util/log.js';

/** The running export: flush what is batched; end every open span, export and stop (the hub's stop). */
export interface Telemetry {
  flush(): Promise<void>;
  /** `note`: why spans still open end now (e.g. the workers were left running for the next hub). */
  shutdown(note?: string): Promise<void>;
}

export interface TelemetryOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces the OTLP exporter and turns the export on whatever the environment says (tests). */
  exporter?: SpanExporter;
}

/**
 * The optional OpenTelemetry export of runs (README, "OpenTelemetry"): null when it is off, as it is by default
 * (config.ts). The SDK is imported only here and only when it is on, so that a normal start-up loads none of it.
 */
export async function startTelemetry(bus: Bus, lookup: TerminalLookup, opts: TelemetryOptions = {}): Promise<Telemetry | null> {
  const config = telemetryConfig(opts.env ?? process.env) ?? (opts.exporter ? { serviceName: 'cao-mcp' } : null);
  if (!config) return null;
  try {
    const { openTelemetry } = await import('./sdk.js');
    return openTelemetry(bus, lookup, config, opts.exporter);
  } catch (e) {
    logger('telemetry').error({ error: (e as Error).message }, 'OpenTelemetry export is on but could not start');
    return null;
  }
}
