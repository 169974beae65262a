"""The gateway's security: who is calling (keys, users, tokens), what they may do, and how often.

What the rest of the gateway wires in: `router` (/auth/...), `authorize` (the app-wide
dependency) and `guard_errors` (what it answers, for the OpenAPI document), `authenticate_websocket`,
`security_lifespan`, `install_cors` and `Base` (tables).
"""

from mlsec.services.gateway.security.dependencies import (
    PrincipalDep,
    authenticate_websocket,
    authorize,
    current_principal,
    guard_errors,
)
from mlsec.services.gateway.security.models import Base
from mlsec.services.gateway.security.routes import router
from mlsec.services.gateway.security.state import SecurityState, install_cors, security_lifespan

__all__ = [
    "Base",
    "PrincipalDep",
    "SecurityState",
    "authenticate_websocket",
    "authorize",
    "current_principal",
    "guard_errors",
    "install_cors",
    "router",
    "security_lifespan",
]
