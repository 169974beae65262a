"""HTTP routes of the training service, one module per concept."""

from mlsec.services.training.api.config import router as config_router
from mlsec.services.training.api.data import router as data_router
from mlsec.services.training.api.jobs import router as jobs_router
from mlsec.services.training.api.registry import router as registry_router

routers = [registry_router, jobs_router, config_router, data_router]
