"""The house rules, checked over the tree: imports run one way between the layers, no backend
imports another backend kind or a stage, and stages and artifact paths are spelled only in the
stage table (storyreel/core/pipeline.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from storyreel.core import pipeline

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "storyreel"
PLUGIN = REPO / "snakemake_logger_plugin_storyreel"
# Layers, lowest first: a module may import its own layer and the ones below it.
LAYERS = ("core", "text", "media", "models", "backends", "job", "stages", "recovery", "ops",
          "cli")
TABLE = PACKAGE / "core" / "pipeline.py"


def layer_of(module: str) -> str | None:
    """The layer of a storyreel module name (``storyreel.ops.status`` -> ``ops``)."""
    parts = module.split(".")
    if parts[0] != "storyreel":
        return None
    if len(parts) == 1:
        return "core"  # the package itself: version and folders
    return parts[1] if parts[1] in LAYERS else None


def imports(path: Path) -> list[tuple[int, str]]:
    """Every storyreel module a file imports, at any depth (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if layer_of(f"{node.module}.{alias.name}") and node.module == "storyreel"]
    return [(line, name) for line, name in found if name.split(".")[0] == "storyreel"]


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    loose = [p.relative_to(REPO).as_posix() for p in package_modules()
             if p.parent == PACKAGE and p.name not in ("__init__.py", "cli.py")]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def upward_imports(path: Path, own: str) -> list[str]:
    rank = LAYERS.index(own)
    bad = []
    for line, name in imports(path):
        target = layer_of(name)
        if target and LAYERS.index(target) > rank:
            bad.append(f"{path.name}:{line} ({own}) imports {name} ({target})")
    return bad


def test_imports_never_run_up_the_layers():
    bad = []
    for path in package_modules():
        rel = path.relative_to(PACKAGE).parts
        own = "cli" if rel == ("cli.py",) else ("core" if len(rel) == 1 else rel[0])
        bad += upward_imports(path, own)
    for path in sorted(PLUGIN.glob("*.py")):  # the logger plugin sits with the operations
        bad += upward_imports(path, "ops")
    assert not bad, "imports that run up the layers:\n" + "\n".join(bad)


def test_backends_import_no_stage_and_no_other_backend_kind():
    bad = []
    for kind in pipeline.BACKEND_KINDS:
        for path in sorted((PACKAGE / "backends" / kind).rglob("*.py")):
            for line, name in imports(path):
                parts = name.split(".")
                other_kind = parts[1:2] == ["backends"] and parts[2:3] != [kind]
                if parts[1:2] == ["stages"] or other_kind:
                    bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not bad, "backends must share code through a neutral module:\n" + "\n".join(bad)


def test_the_layer_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from storyreel.ops import status\n")
    assert upward_imports(bad.resolve(), "media") and not upward_imports(bad.resolve(), "cli")


# -- the stage table is the one place stages and artifact paths are spelled --------------------

ARTIFACT_FILES = sorted({a.path.rsplit("/", 1)[-1] for s in pipeline.RULES for a in s.artifacts
                         if "." in a.path and "{shot}" not in a.path})
_FOLDERS = "|".join(pipeline.shot_folders())
# a string that is a path to an artifact, or a piece of one (f-strings come in pieces)
ARTIFACT_RE = re.compile(r"^[\w{}./-]*(?<![\w.-])(" + "|".join(map(re.escape, ARTIFACT_FILES))
                         + r")$|^(?:" + _FOLDERS + r")/(?:\{|sh|$)|/(?:" + _FOLDERS + r")/")
# stage names, and the folders named after what they hold
STAGE_NAMES = {s.name for s in pipeline.RULES} | set(pipeline.shot_folders())


def _strings(path: Path) -> list[tuple[int, str]]:
    """String constants of a Python file, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def _stage_lists(path: Path) -> list[int]:
    """Lines of literal collections naming three stages or more (a stage list of its own)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        items = node.keys if isinstance(node, ast.Dict) else (
            node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [])
        names = [i.value for i in items if isinstance(i, ast.Constant) and i.value in STAGE_NAMES]
        if len(names) >= 3:
            found.append(node.lineno)
    return found


def code_files() -> list[Path]:
    files = [*package_modules(), *PLUGIN.glob("*.py"), *(REPO / "scripts").glob("*.py")]
    return sorted(p for p in files if p != TABLE)


def spelled_outside(files: list[Path]) -> list[str]:
    bad = []
    for path in files:
        rel = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        for line, text in _strings(path):
            if ARTIFACT_RE.search(text):
                bad.append(f"{rel}:{line}: {text!r}")
        bad += [f"{rel}:{line}: a list of stages" for line in _stage_lists(path)]
    return bad


def test_stages_and_artifact_paths_are_spelled_only_in_the_stage_table():
    bad = spelled_outside(code_files())
    for rules in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        for number, line in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for text in re.findall(r'"([^"]*)"', code):
                if ARTIFACT_RE.search(text) or text.startswith(("results/", "logs/",
                                                                "benchmarks/")):
                    bad.append(f"{rules.relative_to(REPO)}:{number}: {text!r}")
    assert not bad, "use storyreel.core.pipeline instead:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    'PATH = "results/x/voice.json"\n',
    'ORDER = ("idea", "script", "revise")\n',
    'FOLDERS = ("shots", "vision", "keyframes")\n',
    'FILE = f"{story}/keyframes/{shot}.png"\n',
])
def test_the_table_check_can_fail(tmp_path, source):
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    assert spelled_outside([bad])
