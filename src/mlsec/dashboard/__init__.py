"""The web dashboard's files: Jinja2 templates and static assets (ours, and vendored ones with their licences).

Only files live here; the gateway serves them (`mlsec.services.gateway.api.dashboard`). The vendored front-end
files under `static/vendor/` are refreshed from the npm registry by `scripts/vendor_dashboard.py`; nothing is
fetched at run time, so the dashboard works offline.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

__all__ = ["STATIC_DIR", "TEMPLATES_DIR"]
