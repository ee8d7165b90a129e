"""Name -> callable registries (kernels, width rules) that refuse duplicates and list valid names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable)


class Registry(Generic[F]):
    """A dict of named callables with the error messages users need.

    Parameters
    ----------
    what : str
        What is registered, for messages ("kernel", "width rule").
    unknown : str
        Prefix of the unknown-name message, formatted with ``name``.
    fallback : str
        What else the parameter accepts, appended to the unknown-name message.
    extra_names : tuple of str
        Names the parameter accepts without a registry entry (e.g. "precomputed").
    """

    def __init__(self, what: str, unknown: str, fallback: str, extra_names: tuple[str, ...] = ()) -> None:
        self.what, self.unknown, self.fallback, self.extra_names = what, unknown, fallback, extra_names
        self._entries: dict[str, F] = {}

    def register(self, name: str, func: F, *, overwrite: bool = False) -> F:
        if not isinstance(name, str) or name in self.extra_names:
            reserved = f" other than {', '.join(map(repr, self.extra_names))}" if self.extra_names else ""
            raise ValueError(f"A {self.what} name must be a string{reserved}; got {name!r}.")
        if not callable(func):
            raise TypeError(f"A {self.what} must be callable; got {type(func).__name__}.")
        if name in self._entries and not overwrite:
            raise ValueError(
                f"A {self.what} named {name!r} is already registered; pass overwrite=True to replace it."
            )
        self._entries[name] = func
        return func

    def names(self) -> tuple[str, ...]:
        return (*sorted(self._entries), *self.extra_names)

    def get(self, name: str) -> F:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"{self.unknown.format(name=name)}; valid names are {', '.join(map(repr, self.names()))}, "
                f"{self.fallback}."
            ) from None
