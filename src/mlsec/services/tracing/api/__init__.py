"""Every router of the tracing service, in registration order."""

from mlsec.services.tracing.api import export, metrics, overview, receiver, services, traces

routers = [
    receiver.router,
    export.router,
    overview.router,
    traces.router,
    metrics.router,
    services.router,
]
