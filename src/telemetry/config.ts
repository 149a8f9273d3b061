/** What the OpenTelemetry export is set to (read from the standard OTEL_* variables and CAO_OTEL). */
export interface TelemetryConfig {
  serviceName: string;
}

const on = (v: string | undefined) => v !== undefined && v.trim() !== '';

/**
 * Off unless asked for: on when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `CAO_OTEL=1` (the exporter's default, http://localhost:4318);
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off whatever else says. Null when off. The
 * exporter reads the rest itself (endpoint, headers, timeout, compression, batch settings).
 */
export function telemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return null;
  if (!on(env.OTEL_EXPORTER_OTLP_ENDPOINT) && !on(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.CAO_OTEL?.trim() !== '1') return null;
  return { serviceName: env.OTEL_SERVICE_NAME?.trim() || 'cao-mcp' };
}
