"""What every simulator shares: ``start()``/``stop()``, and ``with`` doing both."""
from __future__ import annotations

from typing import Self


class Simulator:
    """Base of the simulators: a context manager around ``start`` and ``stop``."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
