"""Export: what Langfuse and other OpenTelemetry backends receive.

The span plan (``spantree``), the attribute names (``semconv``), the OTLP/Langfuse
exporters, and the span, score, metrics and CloudWatch EMF sinks. Everything that changes
what a backend receives lives here.
"""
