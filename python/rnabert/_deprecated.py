"""Names that moved: their old import paths keep working for one release, with a
DeprecationWarning."""

from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable, Dict


def warn_moved(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now ``new`` (the old name is removed in the next release)."""
    warnings.warn(
        f"{old} has moved to {new}; the old name will be removed in the next release",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def moved_names(old_module: str, moved: Dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for names that moved: ``moved`` maps name -> "new.module" (or
    "new.module:new_name"); each access warns and returns the object from its new home."""

    def __getattr__(name: str) -> Any:
        target = moved.get(name)
        if target is None:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        module, _, new_name = target.partition(":")
        new_name = new_name or name
        warn_moved(f"{old_module}.{name}", f"{module}.{new_name}")
        return getattr(importlib.import_module(module), new_name)

    return __getattr__
