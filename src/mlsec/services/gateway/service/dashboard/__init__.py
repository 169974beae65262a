"""The dashboard's pages, in the order of the navigation; a service's page joins this list when it is built."""

from mlsec.services.gateway.service.dashboard import (
    access,
    business,
    models,
    monitoring,
    overview,
    privacy,
    redteam,
    registry,
    traces,
    training,
    try_it,
)
from mlsec.services.gateway.service.dashboard.pages import Page, View

PAGES: dict[str, Page] = {
    page.name: page
    for page in (
        overview.PAGE,
        models.PAGE,
        registry.PAGE,
        try_it.PAGE,
        training.PAGE,
        monitoring.PAGE,
        traces.PAGE,
        business.PAGE,
        redteam.PAGE,
        privacy.PAGE,
        access.PAGE,
    )
}

__all__ = ["PAGES", "Page", "View"]
