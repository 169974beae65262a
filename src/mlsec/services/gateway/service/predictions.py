"""Unified predictions: the model cache first; on its outage (unreachable or 5xx) the model API.

Input errors (4xx) are not retried elsewhere: the other service would refuse the same input, so its error is
relayed with its status. When no prediction service answers, the answer is 503. A batch may be an ensemble:
every model the model API serves (or the ones named) answers it, and their votes are combined (`ensemble.py`).
With `prompts` (MLSEC_GATEWAY_ANONYMIZE_PROMPTS), the texts' personal data is replaced by its type first.
"""

from __future__ import annotations

import asyncio

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.core.errors import MlsecError, ServiceUnavailableError
from mlsec.core.traffic import TrafficClass
from mlsec.services.gateway.schemas.predictions import (
    EnsemblePrediction,
    UnifiedBatchPredict,
    UnifiedBatchPrediction,
    UnifiedPredict,
    UnifiedPrediction,
)
from mlsec.services.gateway.service.ensemble import combine_votes
from mlsec.services.gateway.service.prompts import PromptAnonymizer


async def predict(
    sdk: MainAPIClient,
    request: UnifiedPredict,
    *,
    traffic_class: TrafficClass | None = None,
    prompts: PromptAnonymizer | None = None,
) -> UnifiedPrediction:
    """One text through the model cache, or the model API when the cache is down (`served_by`, `fallback`)."""
    if prompts is not None:
        request = request.model_copy(update={"text": await prompts.text(request.text)})
    try:
        return await _predict(sdk, request, traffic_class)
    except ServiceCallError as exc:
        raise prediction_error(exc) from exc


async def predict_batch(
    sdk: MainAPIClient,
    request: UnifiedBatchPredict,
    *,
    max_texts: int,
    traffic_class: TrafficClass | None = None,
    prompts: PromptAnonymizer | None = None,
) -> UnifiedBatchPrediction | EnsemblePrediction:
    """A batch through the cache (fallback: the model API); with `ensemble`, every served model (or
    `model_names`) votes: the label is the majority (a tie flags the input: for a detector a miss costs more
    than a false alarm), the score the mean. 413 beyond `max_texts` (MLSEC_GATEWAY_MAX_PREDICT_TEXTS)."""
    if len(request.texts) > max_texts:
        raise MlsecError(
            f"the batch has {len(request.texts)} texts; the limit is {max_texts} (MLSEC_GATEWAY_MAX_PREDICT_TEXTS)",
            status_code=413,
            details={"limit": max_texts},
        )
    if prompts is not None:
        request = request.model_copy(update={"texts": await prompts.texts(request.texts)})
    try:
        if not request.ensemble:
            return await _batch_with_fallback(sdk, request.texts, request.model_name, request.use_cache, traffic_class)
        names = list(request.model_names or await _served_model_names(sdk))
        if not names:
            raise ServiceCallError("model-api", "no model is loaded to form an ensemble")
        answers = await asyncio.gather(
            *(_batch_with_fallback(sdk, request.texts, name, request.use_cache, traffic_class) for name in names)
        )
    except ServiceCallError as exc:
        raise prediction_error(exc) from exc
    return combine_votes(request.texts, names, answers)


def is_outage(exc: ServiceCallError) -> bool:
    """Unreachable, or a server-side failure: worth asking another service."""
    return exc.status_code is None or exc.status_code >= 500


def prediction_error(exc: ServiceCallError) -> MlsecError:
    """The service's own error status for bad input (4xx); 503 when no prediction service answered."""
    if exc.status_code is not None and exc.status_code < 500:
        message = str(exc.body.get("message") or exc)
        details = exc.body.get("details")
        relayed = details if isinstance(details, dict) else {}
        return MlsecError(message, status_code=exc.status_code, details={**relayed, "service": exc.service})
    return ServiceUnavailableError(
        f"no prediction service answered: {exc}", details={"service": exc.service, "error_type": exc.error_type}
    )


async def _predict(
    sdk: MainAPIClient, request: UnifiedPredict, traffic_class: TrafficClass | None
) -> UnifiedPrediction:
    text, model_name, version = request.text, request.model_name, request.version
    if request.use_cache:
        try:
            result = await sdk.model_cache.predict(
                text, model_name=model_name, version=version, traffic_class=traffic_class
            )
            return UnifiedPrediction.model_validate({**result, "served_by": "model-cache", "fallback": False})
        except ServiceCallError as exc:
            if not is_outage(exc):
                raise
            cache_error = str(exc)
    try:
        result = await sdk.model_api.predict(text, model_name=model_name, version=version, traffic_class=traffic_class)
    except ServiceCallError as exc:
        if request.use_cache and is_outage(exc):
            raise ServiceCallError(
                "model-cache and model-api", f"no prediction service answered ({cache_error}; {exc})"
            ) from exc
        raise
    return UnifiedPrediction.model_validate({**result, "served_by": "model-api", "fallback": request.use_cache})


async def _batch_with_fallback(
    sdk: MainAPIClient, texts: list[str], model_name: str | None, use_cache: bool, traffic_class: TrafficClass | None
) -> UnifiedBatchPrediction:
    if use_cache:
        try:
            result = await sdk.model_cache.predict_batch(texts, model_name=model_name, traffic_class=traffic_class)
            return UnifiedBatchPrediction.model_validate({**result, "served_by": "model-cache", "fallback": False})
        except ServiceCallError as exc:
            if not is_outage(exc):
                raise
    result = await sdk.model_api.predict_batch(texts, model_name=model_name, traffic_class=traffic_class)
    return UnifiedBatchPrediction.model_validate({**result, "served_by": "model-api", "fallback": use_cache})


async def _served_model_names(sdk: MainAPIClient) -> list[str]:
    listing = await sdk.model_api.get_models()
    names = sorted({str(model["name"]) for model in listing.get("models", [])})
    if not names and listing.get("default_model"):
        names = [str(listing["default_model"])]
    return names
