"""The logic of the training service, one module per concept: datasets, configs, jobs, the registry view, and
the job runner with the worker process it starts."""
