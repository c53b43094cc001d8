"""storyreel: turn a story idea into a narrated, subtitled video.

Importing this package needs only the core dependencies; heavy libraries (torch, diffusers,
transformers, faster-whisper) are imported inside the backends that use them.
"""

from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
SCHEMA_DIR = REPO_DIR / "schemas"

__all__ = ["PACKAGE_DIR", "REPO_DIR", "SCHEMA_DIR", "__version__"]
