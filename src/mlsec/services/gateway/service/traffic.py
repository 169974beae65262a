"""Which traffic class the gateway passes on: the caller's `X-Mlsec-Traffic-Class`, from operators and admins only.

A viewer's header (or an anonymous caller's, where a route is public) is dropped: the predictions are then
production, as every prediction is unless a trusted caller says otherwise. So nobody can keep their traffic
out of drift checks and business figures without the role that may also change the models.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mlsec.core.auth import Principal, Role, role_allows
from mlsec.core.traffic import PRODUCTION, TRAFFIC_CLASS_HEADER, TrafficClass, parse_traffic_class


def forwarded_traffic_class(request: Request) -> TrafficClass | None:
    """The class to send on (None: none, production); 400 for a value that is not a class, whoever sends it."""
    return traffic_class_to_forward(
        request.headers.get(TRAFFIC_CLASS_HEADER), getattr(request.state, "principal", None)
    )


def traffic_class_to_forward(value: str | None, principal: object) -> TrafficClass | None:
    """`forwarded_traffic_class` from the header's value and the caller the guard let through (the relay's
    form: it has the two at hand, no request object)."""
    if value is None:
        return None
    traffic = parse_traffic_class(value)
    if traffic == PRODUCTION or not isinstance(principal, Principal) or not role_allows(principal.role, Role.OPERATOR):
        return None
    return traffic


async def get_forwarded_traffic_class(request: Request) -> TrafficClass | None:
    """`forwarded_traffic_class` as a FastAPI dependency (`async`: no worker thread)."""
    return forwarded_traffic_class(request)


ForwardedTrafficDep = Annotated[TrafficClass | None, Depends(get_forwarded_traffic_class)]
