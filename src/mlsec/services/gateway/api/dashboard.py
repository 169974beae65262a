"""The web dashboard: server-rendered pages at `/ui/<page>`, their htmx partials, the sign-in page and the files.

Pages are public routes in the permission table because each checks the session itself: without one the
browser is sent to the sign-in page (a JSON 401 would be useless to a person), and a page the role does not
reach answers 403. The data on them comes from the services through the SDK (service/dashboard/); every
write the pages make goes to the gateway's JSON API with the session cookie and the CSRF token.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlsec.core.app import ContextDep
from mlsec.services.gateway.api.auth import SecurityDep
from mlsec.services.gateway.dependencies import SdkDep
from mlsec.services.gateway.service.dashboard import PAGES, Page
from mlsec.services.gateway.service.dashboard.pages import View
from mlsec.services.gateway.service.dashboard.render import build_environment, may_see, shell, signed_in

router = APIRouter(include_in_schema=False)
environment = build_environment()
PageName = Annotated[str, Path(pattern=r"^[a-z][a-z-]{0,31}$")]
PartName = Annotated[str, Path(pattern=r"^[a-z][a-z-]{0,31}$")]
NextPath = Annotated[str, Query(alias="next", max_length=200, pattern=r"^/ui/[a-z-]*$")]


def _render(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    return HTMLResponse(environment.get_template(template).render(**context), status_code=status_code)


def _page(name: str) -> Page | None:
    return PAGES.get(name)


@router.get("/")
async def get_root() -> RedirectResponse:
    """The dashboard's home: the overview."""
    return RedirectResponse("/ui/overview", status_code=303)


@router.get("/ui/sign-in")
async def get_sign_in(request: Request, security: SecurityDep, next_path: NextPath = "/ui/overview") -> Response:
    """The sign-in page (an already signed-in browser goes straight on)."""
    if await signed_in(request.scope, security) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _render("sign_in.html", next_path=next_path)


async def _view(request: Request, security: SecurityDep, sdk: SdkDep, ctx: ContextDep, name: str) -> View | Response:
    page = _page(name)
    if page is None:
        return _render("error.html", 404, title="Not found", message=f"There is no page {name!r}.")
    principal = await signed_in(request.scope, security)
    if principal is None:
        return RedirectResponse(f"/ui/sign-in?next={quote(f'/ui/{name}')}", status_code=303)
    if not may_see(principal, page):
        return _render(
            "error.html", 403, title="Not allowed", message=f"The {page.title} page needs the {page.need} role."
        )
    return View(sdk=sdk, ctx=ctx, principal=principal, query=dict(request.query_params))


ViewDep = Annotated[View | Response, Depends(_view)]


@router.get("/ui/{name}")
async def get_page(name: PageName, request: Request, security: SecurityDep, view: ViewDep) -> Response:
    """One page, rendered with its data."""
    if isinstance(view, Response):
        return view
    page = PAGES[name]
    context = await page.load(view)
    frame = shell(request.scope, security, view.principal, page, list(PAGES.values()))
    return _render(f"pages/{name}.html", **frame, **context)


@router.get("/ui/{name}/partials/{part}")
async def get_partial(
    name: PageName, part: PartName, request: Request, security: SecurityDep, view: ViewDep
) -> Response:
    """One part of a page, for htmx to swap in (refreshed on a timer or when a /ws topic says it changed)."""
    if isinstance(view, Response):
        return view if view.status_code != 303 else Response(status_code=401, headers={"HX-Redirect": "/ui/sign-in"})
    page = PAGES[name]
    loader = page.partials.get(part)
    if loader is None:
        return _render("error.html", 404, title="Not found", message=f"The {page.title} page has no part {part!r}.")
    frame = shell(request.scope, security, view.principal, page, list(PAGES.values()))
    return _render(f"partials/{name}/{part}.html", **frame, **(await loader(view)))
