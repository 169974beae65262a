"""The Python SDK: the only way services, the gateway, the CLI and the tests call a service.

`MainAPIClient` (alias `APIClient`) holds one client per service; every client method that calls a route
declares it with `@endpoint`, which is how the coverage test and the gateway's routes are derived.
"""

from mlsec.client.analytics import AnalyticsClient
from mlsec.client.base import BaseClient, ServiceCallError, ServiceClient
from mlsec.client.business_metrics import BusinessMetricsClient
from mlsec.client.control_tower import ControlTowerClient
from mlsec.client.data_privacy import DataPrivacyClient
from mlsec.client.endpoint import Endpoint, endpoint, endpoints
from mlsec.client.gateway import GatewayClient
from mlsec.client.main import CLIENT_CLASSES, APIClient, MainAPIClient, platform_http_client, service_name
from mlsec.client.mlflow import MLflowClient
from mlsec.client.serving import ModelAPIClient, ModelCacheClient
from mlsec.client.tracing import TracingClient
from mlsec.client.training import TrainingClient

__all__ = [
    "CLIENT_CLASSES",
    "APIClient",
    "AnalyticsClient",
    "BaseClient",
    "BusinessMetricsClient",
    "ControlTowerClient",
    "DataPrivacyClient",
    "Endpoint",
    "GatewayClient",
    "MLflowClient",
    "MainAPIClient",
    "ModelAPIClient",
    "ModelCacheClient",
    "ServiceCallError",
    "ServiceClient",
    "TracingClient",
    "TrainingClient",
    "endpoint",
    "endpoints",
    "platform_http_client",
    "service_name",
]
