"""The gateway's security: who is calling (keys, users, tokens), what they may do, and how often.

What the rest of the gateway wires in: `authorize` (the app-wide dependency) and `guard_errors` (what it
answers, for the OpenAPI document), `admit` (the same check for the relay), `authenticate_websocket`,
`security_lifespan` and `install_cors`. Its routes are `api/auth.py`, its tables `models.py`.
"""

from mlsec.services.gateway.service.security.guard import (
    PrincipalDep,
    admit,
    authenticate_websocket,
    authorize,
    current_principal,
    guard_errors,
)
from mlsec.services.gateway.service.security.state import SecurityState, install_cors, security_lifespan

__all__ = [
    "PrincipalDep",
    "SecurityState",
    "admit",
    "authenticate_websocket",
    "authorize",
    "current_principal",
    "guard_errors",
    "install_cors",
    "security_lifespan",
]
