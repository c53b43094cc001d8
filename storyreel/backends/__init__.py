"""Backends, one folder per kind: ``storyreel/backends/<stage>/``.

A backend *kind* is named after its stage (:data:`storyreel.core.pipeline.BACKEND_KINDS`). Each
kind's ``__init__.py`` holds its interface, a ``typing.Protocol`` every backend of the kind
implements, and ``SPECS``, its built-in backends; every backend is built as ``Backend(options)``
from the stage's validated config block (schema defaults filled in, see
:func:`storyreel.core.config.options_for`) and offers the kind's method(s). Backends are found
through :mod:`storyreel.core.registry` (the built-ins and the ``storyreel.backends`` entry-point
group). A backend imports neither a stage nor another kind's backend: what backends share lives
in :mod:`storyreel.models` and :mod:`storyreel.media`, what they exchange with the stages in
:mod:`storyreel.core.types`.
"""
