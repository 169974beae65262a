"""The tracing service's logic, one module per concept."""
