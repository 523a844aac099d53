"""The houses of the code, checked on the whole tree: where commits, Stripe and raw SQL may live,
and which module may import which.

Each rule is a function over {module path: source}, so that each is also shown to catch a
breach (a rule that cannot fail proves nothing).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "clinic_saas"

# Top to bottom. A module may import its own layer (the cycle rules keep that honest) and below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("clinic_saas", "cli", "demo", "demo_billing", "demo_clinical", "devtools"),
    ("blueprints", "templating", "navigation"),
    ("reports",),
    ("payments",),
    ("billing",),
    ("records", "sales", "schemas"),
    ("clients", "clinical", "scheduling"),
    ("menu", "staff", "accounts"),
    ("tenancy", "permissions", "unit_of_work", "submissions"),
    ("models",),
    (
        "config",
        "money",
        "display",
        "clinic_time",
        "mail",
        "refusals",
        "crypto",
        "extensions",
        "raw_sql",
        "geography",
    ),
)
LAYER_OF = {name: depth for depth, names in enumerate(LAYERS) for name in names}
MAY_COMMIT = {"clinic_saas/unit_of_work.py", "clinic_saas/cli.py"}
MAY_IMPORT_STRIPE = {"clinic_saas/payments/stripe_gateway.py"}
MAY_WRITE_RAW_SQL = {"clinic_saas/raw_sql.py"}


def _sources() -> dict[str, str]:
    root = PACKAGE.parent
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: str, source: str, known: set[str]) -> Iterable[tuple[str, int]]:
    """(imported module of ours, line) for every import in a file, lazy ones included."""
    name = _module_name(path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "clinic_saas":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "clinic_saas":
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield (submodule if submodule in known else target), node.lineno


def _graph(sources: dict[str, str]) -> dict[str, set[str]]:
    known = {_module_name(path) for path in sources}
    graph: dict[str, set[str]] = {}
    for path, source in sources.items():
        name = _module_name(path)
        graph.setdefault(name, set()).update(
            target for target, _ in _imports(path, source, known) if target != name
        )
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package_graph(graph: dict[str, set[str]], packages: set[str]) -> dict[str, set[str]]:
    """The same graph between packages (clinic_saas.sales.packages -> clinic_saas.sales); a
    top-level module such as clinic_saas.money stands for itself."""

    def package_of(module: str) -> str:
        if module in packages or module.count(".") < 2:
            return module
        return module.rpartition(".")[0]

    result: dict[str, set[str]] = {}
    for module, targets in graph.items():
        here = package_of(module)
        result.setdefault(here, set()).update(
            package_of(t) for t in targets if package_of(t) != here
        )
    return result


def _house(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_cycles(sources: dict[str, str]) -> list[str]:
    graph = _graph(sources)
    packages = {_module_name(path) for path in sources if path.endswith("__init__.py")}
    groups = _cycles(graph) + _cycles(_package_graph(graph, packages))
    return sorted({" <-> ".join(group) for group in groups})


def layer_breaches(sources: dict[str, str]) -> list[str]:
    known = {_module_name(path) for path in sources}
    breaches = []
    for path, source in sources.items():
        here = _house(_module_name(path))
        for target, line in _imports(path, source, known):
            there = _house(target)
            if LAYER_OF.get(there, 0) < LAYER_OF.get(here, 0):
                breaches.append(f"{path}:{line} ({here}) imports {target} ({there}), above it")
    return breaches


def unplaced_houses(sources: dict[str, str]) -> list[str]:
    return sorted({_house(_module_name(p)) for p in sources} - set(LAYER_OF))


def commits(sources: dict[str, str]) -> list[str]:
    return [
        f"{path}:{source.count(chr(10), 0, m.start()) + 1}"
        for path, source in sources.items()
        if path not in MAY_COMMIT
        for m in re.finditer(r"\.commit\(", source)
    ]


def stripe_imports(sources: dict[str, str]) -> list[str]:
    found = []
    for path, source in sources.items():
        if path in MAY_IMPORT_STRIPE:
            continue
        for node in ast.walk(ast.parse(source)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "stripe" or n.startswith("stripe.") for n in names):
                found.append(f"{path}:{node.lineno}")
    return found


_SQL_TEXT_MODULES = {"sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression"}


def raw_sql(sources: dict[str, str]) -> list[str]:
    """sqlalchemy's text(), or SQL strings handed to the driver, outside the one reviewed module."""
    found = []
    for path, source in sources.items():
        if path in MAY_WRITE_RAW_SQL:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module in _SQL_TEXT_MODULES:
                if any(alias.name == "text" for alias in node.names):
                    found.append(f"{path}:{node.lineno} imports text")
            elif isinstance(node, ast.Attribute) and node.attr in {"text", "exec_driver_sql"}:
                owner = node.value
                if node.attr == "exec_driver_sql" or (
                    isinstance(owner, ast.Name) and owner.id in {"sa", "sqlalchemy"}
                ):
                    found.append(f"{path}:{node.lineno} uses {node.attr}")
    return found


# The rules on the real tree -------------------------------------------------------------------


def test_every_package_has_a_place_in_the_layers():
    assert unplaced_houses(_sources()) == []


def test_no_module_imports_one_above_it():
    assert layer_breaches(_sources()) == []


def test_no_import_cycles_between_modules_or_packages():
    assert import_cycles(_sources()) == []


def test_only_the_unit_of_work_and_the_cli_commit():
    assert commits(_sources()) == []


def test_only_the_gateway_imports_stripe():
    assert stripe_imports(_sources()) == []


def test_raw_sql_lives_in_one_module():
    assert raw_sql(_sources()) == []


# Each rule catches a breach --------------------------------------------------------------------

HEALTHY = {
    "clinic_saas/money.py": "def total():\n    return 1\n",
    "clinic_saas/models/__init__.py": "from ..money import total\n",
    "clinic_saas/sales/__init__.py": "",
    "clinic_saas/sales/packages.py": "from ..models import total\n",
}


@pytest.mark.parametrize(
    ("rule", "path", "source"),
    [
        (commits, "clinic_saas/sales/packages.py", "db.session.commit()\n"),
        (stripe_imports, "clinic_saas/sales/packages.py", "import stripe\n"),
        (stripe_imports, "clinic_saas/sales/packages.py", "from stripe import StripeClient\n"),
        (raw_sql, "clinic_saas/sales/packages.py", "from sqlalchemy import select, text\n"),
        (raw_sql, "clinic_saas/sales/packages.py", "sa.text('DELETE FROM client')\n"),
        (raw_sql, "clinic_saas/sales/packages.py", "conn.exec_driver_sql('VACUUM')\n"),
        (layer_breaches, "clinic_saas/money.py", "from .sales import packages\n"),
        (import_cycles, "clinic_saas/models/__init__.py", "from ..sales.packages import x\n"),
        (unplaced_houses, "clinic_saas/utils.py", "x = 1\n"),
    ],
)
def test_each_rule_catches_a_breach(rule, path, source):
    assert rule(HEALTHY) == []
    broken = dict(HEALTHY)
    broken[path] = broken.get(path, "") + source
    assert rule(broken) != []


def test_a_cycle_between_packages_is_caught_even_without_a_module_cycle():
    sources = {
        "clinic_saas/menu/__init__.py": "",
        "clinic_saas/menu/a.py": "from ..clients import b\n",
        "clinic_saas/menu/c.py": "",
        "clinic_saas/clients/__init__.py": "",
        "clinic_saas/clients/b.py": "",
        "clinic_saas/clients/d.py": "from ..menu import c\n",
    }
    assert import_cycles(sources) == ["clinic_saas.clients <-> clinic_saas.menu"]
