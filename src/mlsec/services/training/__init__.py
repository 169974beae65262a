"""The training service (port 8002): datasets, training jobs and model registration."""
