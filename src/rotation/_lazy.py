"""Lazy re-exports for packages (PEP 562): public names import their module on first use.

``import rotation`` runs on every CLI start-up, and the analytics, claims and report pull in scipy,
statsmodels, ruptures and plotly (1-2 s); commands that never touch them should not pay for them.
One mechanism for the packages that re-export (``rotation``, ``rotation.analytics``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str], namespace: MutableMapping[str, Any], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping of str to str
        Public name -> absolute name of the module that defines it.
    namespace : mutable mapping
        The package's ``globals()``: a loaded name is stored there, so later
        look-ups never reach ``__getattr__`` again.
    public : iterable of str
        The package's ``__all__`` (listed by ``dir()`` before they load).

    Returns
    -------
    (__getattr__, __dir__)
        ``__getattr__`` also imports the package's submodules by name
        (``rotation.config``); anything else raises ``AttributeError``.
    """
    listed = frozenset(public)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is not None:
            value = getattr(import_module(module), name)
            namespace[name] = value
            return value
        try:
            return import_module(f"{package}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.{name}":
                raise  # the submodule exists but something it imports does not
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | listed)

    return __getattr__, __dir__
