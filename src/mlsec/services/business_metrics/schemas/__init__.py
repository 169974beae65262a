"""Request and response shapes of the business-metrics service, one module per concept."""
