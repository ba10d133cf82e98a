"""Draw who imports whom from the code: the apps, and the layers inside each app.

Usage: ``.venv/bin/python scripts/import_graph.py [--check]``. Prints a Mermaid graph of imports between the
project's apps (for ``docs/architecture.md``) and the layer rules each module breaks; ``--check`` exits 1
when one is broken. Imports are read from the source (``ast``), tests and migrations left out.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["evesite", "jobs", "esi", "universe", "market", "routing", "contracts", "imagecache", "accounts", "appraisal"]
# Layers inside an app, lowest first: a module may import its own app's modules of a lower or equal layer.
# Selectors read and never call services; views and tasks sit on top.
LAYER_OF = {"models": 0, "selectors": 1, "services": 2, "tasks": 3, "views": 3, "urls": 4}


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts or "migrations" in parts or "testing" in parts:
                continue
            found[".".join(parts).removesuffix(".__init__")] = path
    return found


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def _layer(module: str) -> int | None:
    return LAYER_OF.get(module.rsplit(".", maxsplit=1)[-1])


def graph_build() -> tuple[dict[str, set[str]], list[str]]:
    """Return app → apps it imports, and the layer rules broken (``a.selectors imports a.services``)."""
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    broken = []
    for module, path in sorted(modules.items()):
        app = module.split(".")[0]
        for target in sorted(_imports(path)):
            target_app = target.split(".")[0]
            if target_app not in APPS:
                continue
            if target_app != app:
                edges[app].add(target_app)
                continue
            target_module = target if target in modules else target.rsplit(".", 1)[0]
            low, high = _layer(target_module), _layer(module)
            if low is not None and high is not None and low > high:
                broken.append(f"{module} imports {target_module}")
    return edges, sorted(set(broken))


def mermaid(edges: dict[str, set[str]]) -> str:
    """The app graph as Mermaid (an arrow from an app to each app it imports)."""
    lines = ["graph LR"]
    for app in APPS:
        lines += [f"    {app} --> {target}" for target in sorted(edges.get(app, ()))]
    return "\n".join(lines)


def main() -> int:
    """Print the graph and the broken rules."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a layer rule is broken")
    args = parser.parse_args()
    edges, broken = graph_build()
    print(mermaid(edges))
    for rule in broken:
        print(f"layer rule broken: {rule}", file=sys.stderr)
    return 1 if args.check and broken else 0


if __name__ == "__main__":
    sys.exit(main())
