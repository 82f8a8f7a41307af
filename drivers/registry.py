"""Driver names, as written in ``[devices.NAME] driver = "..."``, and their classes.

Imported lazily, so a terminal loads only the drivers its config names.
"""
from __future__ import annotations

from importlib import import_module

from drivers.base import Device

DRIVERS: dict[str, str] = {
    "samv": "drivers.idcard.samv:SamvReader",
    "pcsc": "drivers.idcard.pcsc:PcscReader",
    "escpos": "drivers.printer.escpos:EscposPrinter",
    "cups": "drivers.printer.cups:CupsPrinter",
    "sane": "drivers.scanner.sane:SaneScanner",
    "camera": "drivers.scanner.camera:DocumentCamera",
}


def driver_class(name: str) -> type[Device]:
    """The Device class registered as ``name``; KeyError if there is none."""
    module, _, attr = DRIVERS[name].partition(":")
    return getattr(import_module(module), attr)
