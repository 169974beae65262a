"""HTTP routes of the training service, one module per concept."""

from mlsec.services.training.api.configs import router as configs_router
from mlsec.services.training.api.datasets import router as datasets_router
from mlsec.services.training.api.jobs import router as jobs_router
from mlsec.services.training.api.privacy import router as privacy_router
from mlsec.services.training.api.registry import router as registry_router

routers = [registry_router, jobs_router, configs_router, datasets_router, privacy_router]
