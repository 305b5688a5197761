"""``once_property``: a cached property whose first computation runs once per instance even
when two request threads ask at the same moment (functools.cached_property has no lock
from Python 3.12 on, and before that one lock for every instance of the class)."""

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class once_property(Generic[T]):
    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        values = instance.__dict__
        if self.name not in values:
            lock = values.setdefault(f"_{self.name}_lock", threading.Lock())  # setdefault: one lock wins
            with lock:
                if self.name not in values:  # the second caller finds the first one's value
                    values[self.name] = self.compute(instance)
        return values[self.name]


def compute_in_background(instance: Any, name: str) -> threading.Thread:
    """Compute ``instance.<name>`` in a background thread now (an app's start-up), so that
    no request has to; a request that comes first waits for it, never computes it again."""
    thread = threading.Thread(target=getattr, args=(instance, name), daemon=True, name=f"compute-{name}")
    thread.start()
    return thread
