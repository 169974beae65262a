"""Request and response shapes of the tracing service, one module per concept."""
