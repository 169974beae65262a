"""The control tower (port 8010): MLflow models by stage, monitored models, experiments and runs."""
