import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { VmcpConfig } from '@vmcp/config';
import { startMetrics, type VmcpMetrics } from './metrics.js';

export const VMCP_VERSION = '0.1.0';

export interface Telemetry {
  readonly tracer: Tracer;
  /** The process's metrics, served in the Prometheus format on /metrics. */
  readonly metrics: VmcpMetrics;
  shutdown(): Promise<void>;
}

/**
 * Registers the tracer provider, W3C propagation and async context for one service.
 * Spans are always created (so trace ids reach logs and travel on the bus); they are
 * recorded and exported over OTLP only when the standard OTEL_ variables ask for it.
 * Otherwise every span is a non-recording one: it carries the trace context and costs
 * next to nothing, where a recorded span nobody exports would cost each hop its
 * attributes, events and timing for nothing.
 */
export function startTelemetry(config: VmcpConfig): Telemetry {
  const spanProcessors: SpanProcessor[] = config.otel.exportTraces ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] : [];
  const provider = new TracerProvider({
    // Exporting: the SDK's default sampler (parent-based, always on).
    ...(config.otel.exportTraces ? {} : { sampler: new AlwaysOffSampler() }),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: `vmcp-${config.service}`,
      [ATTR_SERVICE_VERSION]: VMCP_VERSION,
    }),
    spanProcessors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer('vmcp', VMCP_VERSION),
    metrics: startMetrics({ service: `vmcp-${config.service}`, version: VMCP_VERSION }),
    async shutdown() {
      await provider.shutdown();
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer('vmcp', VMCP_VERSION);
}
