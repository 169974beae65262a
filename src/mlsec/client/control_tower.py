"""Client of the control tower (port 8010): MLflow models by stage, monitored models, experiments and runs."""

from mlsec.client.base import ServiceClient


class ControlTowerClient(ServiceClient):
    """The common endpoints (health, metrics) so far; one typed method per domain endpoint as the service grows.

    The coverage test (tests/api/test_sdk_coverage.py) fails as soon as the service has a route this
    client does not declare.
    """
