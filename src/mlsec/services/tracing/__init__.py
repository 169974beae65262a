"""The tracing service (port 8009): the OTLP receiver and store of spans."""
