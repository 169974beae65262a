"""HTTP routes of the analytics service, one module per concept."""

from mlsec.services.analytics.api.drift import router as drift_router
from mlsec.services.analytics.api.performance import router as performance_router
from mlsec.services.analytics.api.promotion import router as promotion_router
from mlsec.services.analytics.api.redteam import router as redteam_router
from mlsec.services.analytics.api.retrain import router as retrain_router
from mlsec.services.analytics.api.summary import router as summary_router

routers = [summary_router, drift_router, performance_router, redteam_router, retrain_router, promotion_router]
