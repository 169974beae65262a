"""The "Try it" page: classify a text or a file with the served champion. The page calls the gateway's own
`POST /predict` and `POST /predict/batch` from the browser (with the session and its CSRF token), so what a
person sees is exactly what an application gets."""

from __future__ import annotations

from mlsec.services.gateway.service.dashboard.pages import Page

PAGE = Page(name="try", title="Try it")
