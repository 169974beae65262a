"""Client of the tracing (port 8009): spans and traces of every request."""

from mlsec.client.base import ServiceClient


class TracingClient(ServiceClient):
    """The common endpoints (health, metrics) so far; one typed method per domain endpoint as the service grows.

    The coverage test (tests/api/test_sdk_coverage.py) fails as soon as the service has a route this
    client does not declare.
    """
