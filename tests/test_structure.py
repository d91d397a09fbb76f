"""The code's shape holds: dependencies point one way (adapters and the command line, then the
application layer, then scheduling and the core, then storage), and no modules import each
other in a circle. Every import counts, also those inside functions or under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage", "prompts")
LAYERS: dict[str, tuple[str, ...]] = {
    # a module of the first package may not import any of the packages listed after it
    "prompts": ("bot", "storage"),  # the bottom: the shipped packs and where they are
    "storage": ("bot",),
    "bot.config": ("bot.core", "bot.app", "bot.scheduling", "bot.slack", "bot.teams",
                   "bot.cli", "bot.demo", "bot.terminal"),
    "bot.core": ("bot.app", "bot.scheduling", "bot.slack", "bot.teams", "bot.cli",
                 "bot.demo", "bot.config", "bot.terminal"),
    "bot.scheduling": ("bot.app", "bot.slack", "bot.teams", "bot.cli", "bot.demo",
                       "bot.terminal"),
    "bot.demo": ("bot.app", "bot.slack", "bot.teams", "bot.cli", "bot.terminal"),
    "bot.app": ("bot.slack", "bot.teams", "bot.cli", "bot.demo", "bot.terminal"),
    "bot.slack": ("bot.teams", "bot.cli", "bot.terminal"),
    "bot.teams": ("bot.slack", "bot.cli", "bot.terminal"),
    "bot.terminal": ("bot.app", "bot.core", "bot.slack", "bot.teams", "bot.cli", "storage"),
    # bot.terminal: what the command line shows on a terminal; only bot.cli uses it
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """Each module of ours and the modules of ours it imports."""
    sources = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")
               if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in sources.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in sources and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
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


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert cycles(imports()) == []


def test_it_finds_a_circle_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for module, targets in imports().items():
        for package, forbidden in LAYERS.items():
            if in_package(module, package):
                upward += [f"{module} -> {t}" for t in targets
                           if any(in_package(t, f) for f in forbidden)]
    assert upward == []


def test_the_slack_adapter_holds_no_use_case() -> None:
    """Slack's listeners reach the database only through the application layer."""
    reaching = [f"{module} -> {t}" for module, targets in imports().items()
                if in_package(module, "bot.slack.listeners")
                for t in targets if in_package(t, "storage") or t in {
                    "bot.core.rounds", "bot.core.replies", "bot.core.answers",
                    "bot.core.sending", "bot.core.digest_posts", "bot.core.reminders"}]
    assert reaching == []
