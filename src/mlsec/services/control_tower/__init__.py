"""The control tower (port 8010; seed 004's API, whose own port 8000 is the model API's): the MLflow registry at a
glance, by stage, from a persisted snapshot refreshed in the background; monitored models; experiments and runs."""
