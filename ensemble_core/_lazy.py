"""Things made on first use: a package's exports (PEP 562) and :class:`Lazy` values."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Generic, TypeVar

T = TypeVar("T")
_UNSET = object()


class Lazy(Generic[T]):
    """A value built on first use, once, thread-safely.

    Loading a transformer takes seconds, and the dashboard shares one evaluator between
    browser sessions (``st.cache_resource``): deferring the work means a cache hit never
    pays, and the lock means two sessions asking at once build it once. Once built, a
    read takes no lock. A build that raises leaves it unbuilt: the next ``get`` tries again.

    Examples
    --------
    >>> calls = []
    >>> square = Lazy(lambda: calls.append(1) or 49)
    >>> square.get(), square.get(), len(calls)
    (49, 49, 1)
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build: Callable[[], T] | None = build
        self._value: object = _UNSET
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is _UNSET:
            with self._lock:
                if self._value is _UNSET:
                    self._value = self._build()
                    self._build = None  # what it closed over can go
                value = self._value
        return value  # type: ignore[return-value]

    @property
    def built(self) -> bool:
        """Whether the value exists yet (never builds it)."""
        return self._value is not _UNSET


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for ``exports`` (name → relative module).

    The first use of a name imports its module and caches the value in the package.
    """
    namespace = import_module(package).__dict__

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
