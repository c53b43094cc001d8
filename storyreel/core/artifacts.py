"""Atomic, schema-validated artifact I/O.

Every JSON artifact has a schema in ``schemas/artifacts/<kind>.schema.yaml``; it is validated
when written (before the file appears) and when read. Files are written to a temporary file in
the same directory and renamed into place, so a crash never leaves a half file that looks
finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from storyreel import SCHEMA_DIR
from storyreel.core.errors import ArtifactError, disk_full


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/artifacts/<name>.schema.yaml`` (or a top-level schema by file name)."""
    path = SCHEMA_DIR / "artifacts" / f"{name}.schema.yaml"
    if not path.exists():
        path = SCHEMA_DIR / name
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def error_path(error: jsonschema.ValidationError) -> str:
    """Dotted path of a validation error, e.g. ``stages.script.backend`` or ``shots[2].end``."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


@cache
def _registry() -> Registry:
    """All artifact schemas, addressable by file name for ``$ref``."""
    resources = [
        (path.name, Resource.from_contents(load_schema(path.name.removesuffix(".schema.yaml")),
                                           default_specification=DRAFT202012))
        for path in sorted((SCHEMA_DIR / "artifacts").glob("*.schema.yaml"))
    ]
    return Registry().with_resources(resources)


def validate(data: Any, schema: str, what: str = "") -> None:
    """Validate ``data`` against a named schema, raising :class:`ArtifactError` on failure."""
    validator = jsonschema.Draft202012Validator(load_schema(schema), registry=_registry())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise ArtifactError(
            f"{what or schema}: invalid {schema} artifact at {error_path(error)}: {error.message}"
        )


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()
NEARLY_FULL = 1 << 20  # bytes free under which a write error without errno is a full disk


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part" + target.suffix,
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, FILE_MODE)  # mkstemp makes 0600; finished files follow the umask
        os.replace(tmp_path, target)
    except OSError as exc:  # a write error names no file: name the artifact (a full disk...)
        if exc.filename is None or str(exc.filename) == str(tmp_path):
            exc.filename = str(target)
        if exc.errno is None and shutil.disk_usage(target.parent).free < NEARLY_FULL:
            raise disk_full(target) from exc  # an encoder's "error -2 when writing" (Pillow)
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], data: Any, schema: str | None = None) -> None:
    """Validate (when a schema is named) and write JSON atomically, with stable key order."""
    if schema:
        validate(data, schema, str(path))
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike[str], schema: str | None = None) -> Any:
    """Read JSON and validate it against a named schema."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read JSON artifact: {exc}") from exc
    if schema:
        validate(data, schema, str(path))
    return data


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
