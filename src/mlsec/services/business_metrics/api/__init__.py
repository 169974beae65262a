"""Every router of the business-metrics service, in registration order."""

from mlsec.services.business_metrics.api import overview

routers = [
    overview.router,
]
