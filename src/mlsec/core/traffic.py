"""Traffic classes: whose predictions these are, so that only real traffic feeds drift, retraining and KPIs.

The platform sends predictions through the same path as its users: red-team runs (`redteam`), promotion
evaluations (`evaluation`), benchmarks and load tests (`synthetic`). Each prediction carries its class in
the `X-Mlsec-Traffic-Class` header (absent: `production`), the serving services store it in the prediction
log, and live drift, performance, auto-retrain triggers and business figures read `production` only. The
gateway forwards the header only for operator and admin callers, so a viewer cannot hide traffic from
monitoring; the serving services trust it because only the gateway and platform services reach them.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

from fastapi import Depends, Header

from mlsec.core.errors import MlsecError

TRAFFIC_CLASS_HEADER: Final = "X-Mlsec-Traffic-Class"
TrafficClass = Literal["production", "redteam", "evaluation", "synthetic"]
TRAFFIC_CLASSES: Final[tuple[TrafficClass, ...]] = get_args(TrafficClass)
PRODUCTION: Final[TrafficClass] = "production"


class InvalidTrafficClassError(MlsecError):
    status_code = 400

    def __init__(self, value: str):
        super().__init__(
            f"{TRAFFIC_CLASS_HEADER} must be one of {', '.join(TRAFFIC_CLASSES)}",
            details={"allowed": list(TRAFFIC_CLASSES), "length": len(value)},
        )


def parse_traffic_class(value: str | None) -> TrafficClass:
    """The class a header value names (absent or blank: production); InvalidTrafficClassError otherwise.
    The refused value is not echoed back: a header is caller input."""
    if value is None or not value.strip():
        return PRODUCTION
    normalised = value.strip().lower()
    for known in TRAFFIC_CLASSES:
        if normalised == known:
            return known
    raise InvalidTrafficClassError(value)


async def get_traffic_class(
    traffic_class: Annotated[
        str | None,
        Header(
            alias=TRAFFIC_CLASS_HEADER,
            max_length=32,
            json_schema_extra={"enum": list(TRAFFIC_CLASSES)},
            description="production (default), redteam, evaluation or synthetic: only production traffic feeds "
            "drift, performance, auto-retrain and business figures.",
        ),
    ] = None,
) -> TrafficClass:
    """The request's traffic class (a FastAPI dependency; `async`, so it does not run in a thread)."""
    return parse_traffic_class(traffic_class)


TrafficClassDep = Annotated[TrafficClass, Depends(get_traffic_class)]
