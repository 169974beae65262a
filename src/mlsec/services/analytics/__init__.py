"""The analytics service (port 8006): drift, performance, red team, auto-retrain and promotion."""
