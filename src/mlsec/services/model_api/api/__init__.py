"""HTTP routes of the model API, in registration order: the shared prediction and privacy routes (mlsec.serving),
then its own model management and the V2 and MLflow protocols."""

from mlsec.services.model_api.api.models import router as models_router
from mlsec.services.model_api.api.protocols import invocations as invocations_router
from mlsec.services.model_api.api.protocols import v2 as v2_router
from mlsec.serving.http_routes import build_predict_router
from mlsec.serving.privacy_routes import build_privacy_router

routers = [build_predict_router(), build_privacy_router(), models_router, v2_router, invocations_router]
