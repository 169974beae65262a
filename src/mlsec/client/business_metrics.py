"""Client of the business metrics (port 8004): KPI time series and reports."""

from mlsec.client.base import ServiceClient


class BusinessMetricsClient(ServiceClient):
    """The common endpoints (health, metrics) so far; one typed method per domain endpoint as the service grows.

    The coverage test (tests/api/test_sdk_coverage.py) fails as soon as the service has a route this
    client does not declare.
    """
