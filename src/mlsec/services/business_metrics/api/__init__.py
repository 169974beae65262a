"""Every router of the business-metrics service, in registration order."""

from mlsec.services.business_metrics.api import (
    analytics,
    costs,
    metrics,
    overview,
    performance,
    reports,
    security,
    slas,
)

routers = [
    overview.router,
    metrics.router,
    performance.router,
    security.router,
    costs.router,
    slas.router,
    analytics.router,
    reports.router,
]
