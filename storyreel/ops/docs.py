"""Generate docs/config.md from the config and stories schemas (a test fails when it is stale)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from storyreel import REPO_DIR, SCHEMA_DIR

CONFIG_DOC = REPO_DIR / "docs" / "config.md"


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
        schema = yaml.safe_load((SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
        description = " ".join(str(schema.get("description", "")).split())
        parts += [f"## {heading}", "", f"{intro} {description}", "",
                  "| key | type | default | description |", "| --- | --- | --- | --- |",
                  *_rows(schema), ""]
    return "\n".join(parts)


def write(path: Path = CONFIG_DOC) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")


def is_stale(path: Path = CONFIG_DOC) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != render()
