"""The logic of the analytics service, one module per concept: drift (checks, the live window, the monitor),
performance (feedback, metrics, exports), red team, auto-retrain, promotion, the summary, alerts and configs."""
