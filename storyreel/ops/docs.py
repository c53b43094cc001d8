"""Generate docs/config.md from the config and stories schemas, and the table of
docs/output.md from the stage table (a test fails when either is stale)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from storyreel import REPO_DIR, SCHEMA_DIR
from storyreel.core import pipeline
from storyreel.core.config import config_schema

CONFIG_DOC = REPO_DIR / "docs" / "config.md"
OUTPUT_DOC = REPO_DIR / "docs" / "output.md"
TABLE_START = "<!-- The table below is generated from the stage table by `storyreel docs`. -->"
TABLE_END = "<!-- End of the generated table. -->"


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    text = " or ".join(k for k in kinds if k)
    if "enum" in schema:
        text += ": " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    return text


def _rows(schema: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if sub.get("type") == "object" and "properties" in sub:
            rows.append(f"| `{path}` | object | | {sub.get('description', '')} |")
            rows += _rows(sub, f"{path}.")
            continue
        if sub.get("type") == "array" and "properties" in sub.get("items", {}):
            rows.append(f"| `{path}` | list | | {sub.get('description', '')} |")
            rows += _rows(sub["items"], f"{path}[].")
            continue
        if "default" in sub:
            default = f"`{json.dumps(sub['default'])}`"
        else:
            default = "required" if name in schema.get("required", ()) else "optional"
        description = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{path}` | {_type(sub)} | {default} | {description} |")
    return rows


def render() -> str:
    """The Markdown text of docs/config.md."""
    parts = ["<!-- Generated from schemas/ by `storyreel docs`; do not edit by hand. -->",
             "# Configuration reference", ""]
    for file_name, heading, intro in (
        ("config.schema.yaml", "config/config.yaml",
         "Analysis settings, passed with `--configfile` or `--config key=value`."),
        ("stories.schema.yaml", "The stories file",
         "Named by the config key `stories`; switch with `--config stories=other.yaml`."),
    ):
        schema = config_schema() if file_name == "config.schema.yaml" else yaml.safe_load(
            (SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
        description = " ".join(str(schema.get("description", "")).split())
        parts += [f"## {heading}", "", f"{intro} {description}", "",
                  "| key | type | default | description |", "| --- | --- | --- | --- |",
                  *_rows(schema), ""]
    return "\n".join(parts)


def output_table() -> str:
    """The table of every file a story's folder holds, from the stage table."""
    rows = ["| file | stage | what it holds | schema |", "| --- | --- | --- | --- |"]
    for stage in pipeline.RULES:
        for artifact in stage.artifacts:
            path = artifact.path + ("/" if artifact.kind == "folder" else "")
            rows.append(f"| `{path}` | {stage.name} | {artifact.what} | "
                        f"{f'`{artifact.schema}`' if artifact.schema else '—'} |")
    rows.append(f"| `{pipeline.ARCHIVED}` | `storyreel clean` | marks a finished story whose "
                "intermediates were removed: the default target leaves it alone | — |")
    return "\n".join(rows)


def render_output(current: str) -> str:
    """docs/output.md with its generated table replaced."""
    head, _, rest = current.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    return f"{head}{TABLE_START}\n{output_table()}\n{TABLE_END}{tail}"


def _pages() -> dict[Path, str]:
    return {CONFIG_DOC: render(),
            OUTPUT_DOC: render_output(OUTPUT_DOC.read_text(encoding="utf-8"))}


def write() -> None:
    for path, text in _pages().items():
        path.write_text(text, encoding="utf-8")


def is_stale() -> bool:
    return any(not path.exists() or path.read_text(encoding="utf-8") != text
               for path, text in _pages().items())
