"""Refresh the dashboard's vendored front-end files from the npm registry.

The dashboard works offline and needs no Node.js at run time, so the few files it uses are committed under
`src/mlsec/dashboard/static/vendor/<package>/`, each with the package's licence and a `SOURCE` line (package,
version, tarball and its integrity hash). This script downloads the pinned versions below, checks each tarball
against the registry's sha512 integrity, and writes those files again. Run it after changing a pin:

    python scripts/vendor_dashboard.py            # the public npm registry
    NPM_CONFIG_REGISTRY=https://... python scripts/vendor_dashboard.py
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "src" / "mlsec" / "dashboard" / "static" / "vendor"
PACKAGES: dict[str, tuple[str, dict[str, str]]] = {
    # package: (version, {path in the tarball: file name in vendor/<package>/})
    "htmx.org": ("2.0.8", {"package/dist/htmx.min.js": "htmx.min.js", "package/LICENSE": "LICENSE"}),
    "uplot": (
        "1.6.32",
        {
            "package/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
            "package/dist/uPlot.min.css": "uPlot.min.css",
            "package/LICENSE": "LICENSE",
        },
    ),
}


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - https registry URLs only
        data: bytes = response.read()
        return data


def refresh(name: str, version: str, files: dict[str, str], registry: str) -> None:
    meta = json.loads(_get(f"{registry}/{name}/{version}"))
    tarball_url, integrity = meta["dist"]["tarball"], meta["dist"]["integrity"]
    tarball = _get(tarball_url)
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != expected:
        raise SystemExit(f"{name}@{version}: the tarball does not match the registry's integrity {integrity}")
    target = VENDOR / name
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, file_name in files.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{name}@{version}: {member} is not in the tarball")
            (target / file_name).write_bytes(extracted.read())
    source = f"{name}@{version} {meta.get('license', '?')} {tarball_url.rsplit('/', 1)[-1]} {integrity}\n"
    (target / "SOURCE").write_text(source, encoding="utf-8")
    print(f"{name}@{version}: {', '.join(files.values())}")


def main() -> int:
    registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    for name, (version, files) in PACKAGES.items():
        refresh(name, version, files, registry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
