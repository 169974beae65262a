"""Every service has the rooms docs/adding-a-service.md names, and each room holds only what it says.

What the import contracts cannot see is checked here, by reading the source: which files a service has,
how its app registers its routers, what its routes may import, and that no source file grows past the
size a reader can hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mlsec"
SERVICES = SRC / "services"
MAX_LINES = 400

# The services built so far; a service joins this list in the change that builds it.
BUILT = (
    "analytics",
    "business_metrics",
    "control_tower",
    "data_privacy",
    "gateway",
    "model_api",
    "model_cache",
    "tracing",
    "training",
)
REQUIRED = ("__init__.py", "app.py", "settings.py", "dependencies.py", "models.py", "api/__init__.py")
ALLOWED_AT_ROOT = {"__init__.py", "app.py", "settings.py", "state.py", "dependencies.py", "errors.py", "models.py"}
PACKAGES = ("api", "schemas", "service")
FORBIDDEN_IN_ROUTES = ("sqlalchemy", "httpx")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_built_services_are_all_the_services_with_routes() -> None:
    """A service that gains routes joins BUILT, so the layout check cannot miss it."""
    with_routes = sorted(p.parent.parent.name for p in SERVICES.glob("*/api/__init__.py"))
    assert with_routes == sorted(BUILT)


@pytest.mark.parametrize("service", BUILT)
def test_a_service_has_every_room_of_the_plan(service: str) -> None:
    root = SERVICES / service
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    missing += [f"{name}/" for name in PACKAGES if not (root / name / "__init__.py").is_file()]
    assert not missing, f"{service} lacks {missing} (docs/adding-a-service.md)"


@pytest.mark.parametrize("service", BUILT)
def test_logic_lives_in_the_service_folder_not_beside_the_app(service: str) -> None:
    root = SERVICES / service
    extra = sorted(p.name for p in root.iterdir() if p.suffix == ".py" and p.name not in ALLOWED_AT_ROOT)
    extra += sorted(f"{p.name}/" for p in root.iterdir() if p.is_dir() and p.name not in (*PACKAGES, "__pycache__"))
    assert not extra, f"{service}: {extra} belong in api/, schemas/ or service/"


@pytest.mark.parametrize("service", BUILT)
def test_the_app_registers_the_routers_of_its_api_package(service: str) -> None:
    """One way to register routes: `routers` from api/__init__.py, handed to core's create_service_app."""
    api = ast.parse((SERVICES / service / "api" / "__init__.py").read_text(encoding="utf-8"))
    assigned = {t.id for node in api.body if isinstance(node, ast.Assign | ast.AnnAssign) for t in _targets(node)}
    assert "routers" in assigned, f"{service}/api/__init__.py defines no `routers`"
    app = (SERVICES / service / "app.py").read_text(encoding="utf-8")
    assert f"from mlsec.services.{service}.api import routers" in app
    assert "create_service_app(" in app


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.Name]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t for t in targets if isinstance(t, ast.Name)]


@pytest.mark.parametrize("service", BUILT)
def test_routes_hold_no_sql_and_no_http_calls(service: str) -> None:
    offenders = {
        str(path.relative_to(SERVICES)): sorted(n for n in _imports(path) if n.split(".")[0] in FORBIDDEN_IN_ROUTES)
        for path in (SERVICES / service / "api").rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}, "routes call the logic layer, which does SQL and HTTP"


@pytest.mark.parametrize("service", BUILT)
def test_the_logic_layer_never_imports_the_routes(service: str) -> None:
    api = f"mlsec.services.{service}.api"
    offenders = [
        str(path.relative_to(SERVICES))
        for path in (SERVICES / service / "service").rglob("*.py")
        if any(name == api or name.startswith(f"{api}.") for name in _imports(path))
    ]
    assert not offenders


@pytest.mark.parametrize("service", BUILT)
def test_settings_are_built_on_the_common_base(service: str) -> None:
    source = (SERVICES / service / "settings.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name.endswith("Settings")]
    assert classes, f"{service}/settings.py defines no settings class"
    bases = {ast.unparse(base) for cls in classes for base in cls.bases}
    assert bases <= {"ServiceSettings", "ServingSettings"}, bases


def test_no_source_file_passes_the_size_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these into modules of one job each: {long}"
