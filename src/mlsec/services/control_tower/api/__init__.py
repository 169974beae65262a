"""The control tower's routers, in registration order; `debug.router` only when ENABLE_DEBUG_ENDPOINTS."""

from mlsec.services.control_tower.api import cache, debug, experiments, models, monitoring, system

routers = [system.router, models.router, monitoring.router, experiments.router, cache.router, debug.router]
