"""HTTP routes of the model cache, in registration order: the shared prediction and privacy routes (mlsec.serving),
then its contents, its configuration and its event log."""

from mlsec.services.model_cache.api.cache import router as cache_router
from mlsec.services.model_cache.api.config import router as config_router
from mlsec.services.model_cache.api.events import router as events_router
from mlsec.serving.http_routes import build_predict_router
from mlsec.serving.privacy_routes import build_privacy_router

routers = [build_predict_router(), build_privacy_router(), cache_router, config_router, events_router]
