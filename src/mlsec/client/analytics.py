"""Client of the analytics (port 8006): drift, performance, red team, auto-retrain and promotion."""

from mlsec.client.base import ServiceClient


class AnalyticsClient(ServiceClient):
    """The common endpoints (health, metrics) so far; one typed method per domain endpoint as the service grows.

    The coverage test (tests/api/test_sdk_coverage.py) fails as soon as the service has a route this
    client does not declare.
    """
