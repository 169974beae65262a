"""The Python SDK: the only way services, the gateway, the CLI and the tests call a service."""

from mlsec.client.base import ServiceCallError, ServiceClient
from mlsec.client.serving import ModelAPIClient, ModelCacheClient
from mlsec.client.training import TrainingClient

__all__ = ["ModelAPIClient", "ModelCacheClient", "ServiceCallError", "ServiceClient", "TrainingClient"]
