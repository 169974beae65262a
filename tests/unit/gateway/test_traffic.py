"""The gateway passes a caller's traffic class on only for operators and admins."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from mlsec.core.auth import Principal, Role
from mlsec.core.traffic import InvalidTrafficClassError
from mlsec.services.gateway.service.traffic import forwarded_traffic_class


def _request(header: str | None, principal: Principal | None) -> Request:
    headers = [(b"x-mlsec-traffic-class", header.encode())] if header is not None else []
    request = Request({"type": "http", "method": "POST", "path": "/predict", "headers": headers, "query_string": b""})
    if principal is not None:
        request.state.principal = principal
    return request


def _caller(role: Role) -> Principal:
    return Principal(subject=f"{role.value}-key", role=role, kind="api_key", key_id="0123456789ab")


@pytest.mark.parametrize(
    ("role", "forwarded"),
    [(Role.ADMIN, "redteam"), (Role.OPERATOR, "redteam"), (Role.VIEWER, None), (None, None)],
)
def test_only_operators_and_admins_set_a_traffic_class(role: Role | None, forwarded: str | None) -> None:
    principal = _caller(role) if role is not None else None
    assert forwarded_traffic_class(_request("redteam", principal)) == forwarded


def test_production_and_no_header_send_nothing_and_a_bad_value_is_refused() -> None:
    admin = _caller(Role.ADMIN)
    assert forwarded_traffic_class(_request(None, admin)) is None
    assert forwarded_traffic_class(_request("production", admin)) is None
    with pytest.raises(InvalidTrafficClassError):
        forwarded_traffic_class(_request("everything", _caller(Role.VIEWER)))
