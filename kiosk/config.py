"""One TOML file → a typed, validated config.

Each ``[devices.NAME]`` section names a ``driver`` (see ``drivers.registry``); its
other keys are that driver's ``Options`` fields. Every mistake is a ``ConfigError``
naming the file, the section and the key.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.base import Device, Options
from drivers.registry import DRIVERS, driver_class
from kiosk.fleet_options import FleetOptions
from kiosk.opening_hours import parse as parse_opening_hours
from kiosk.queue import QueueOptions
from kiosk.store_options import StoreOptions
from kiosk.upstream.options import UpstreamOptions
from l10n import N_, Msg, translate

DEMO_CONFIG = Path(__file__).resolve().parent / "demo.toml"
DEMO_RUN_DIR = Path("/tmp/kiosk-demo")  # where `kiosk demo` runs the simulators demo.toml names


class ConfigError(Exception):
    """A config mistake, with a message in every language."""

    def __init__(self, path: Path | str, msgid: str, **params: Any):
        self.path = str(path)
        self.msgid = msgid
        self.params = params
        super().__init__(self.message("en"))

    def message(self, language: str = "zh_CN") -> str:
        return f"{self.path}: " + translate(self.msgid, language, **self.params)


@dataclass(frozen=True)
class Terminal:
    """The ``[terminal]`` section: who this terminal is."""

    id: str = "kiosk-dev"
    station: str = ""
    language: str = "zh_CN"
    guide_url: str = "https://www.gdzwfw.gov.cn/portal/v2/guide/{code}"  # an item's guide online
    opening_hours: str = ""  # the staffed window's hours as published: kiosk/opening_hours.py reads them
    catalog: str = ""  # the service-item file operators replace; "" = the bundled catalog
    content: str = ""  # the published-articles file; "" = the bundled articles
    verify_url: str = "https://www.gdzwfw.gov.cn/portal/v2/verify?case={case_no}&code={code}"  # a certificate's check online
    progress_url: str = "https://www.gdzwfw.gov.cn/portal/v2/progress?case={number}"  # a receipt's QR: a case's progress

    def __post_init__(self) -> None:
        parse_opening_hours(self.opening_hours)  # a ValueError names what it cannot read


@dataclass(frozen=True)
class Display:
    """The ``[display]`` section: the panel, so sizes on the glass are right."""

    dpi: float = 102.0  # a 21.5-inch 1920×1080 panel
    orientation: str = "landscape"

    def __post_init__(self) -> None:
        if not 40 <= self.dpi <= 400:
            raise ValueError("key 'dpi' must be between 40 and 400")
        if self.orientation not in ("landscape", "portrait"):
            raise ValueError("key 'orientation' must be 'landscape' or 'portrait'")


@dataclass(frozen=True)
class SessionTimes:
    """The ``[session]`` section: when an idle visit is asked "still there?" and ended."""

    idle_timeout_s: float = 60.0
    countdown_s: float = 20.0

    def __post_init__(self) -> None:
        if self.idle_timeout_s < 10 or self.countdown_s < 5:
            raise ValueError("keys 'idle_timeout_s' (at least 10) and 'countdown_s' (at least 5) are too short")


@dataclass(frozen=True)
class Maintenance:
    """The ``[maintenance]`` section: the technicians' screen."""

    pin: str = ""  # empty: the maintenance screen stays locked
    allow_exit: bool = False  # leaving the app to the desktop: development only

    def __post_init__(self) -> None:
        if self.pin and not (self.pin.isdigit() and 4 <= len(self.pin) <= 12):
            raise ValueError("key 'pin' must be 4 to 12 digits")


@dataclass(frozen=True)
class DeviceConfig:
    """One ``[devices.NAME]`` section: the driver's class and its validated options."""

    name: str
    driver: str
    options: Options

    def create(self) -> Device:
        return driver_class(self.driver)(self.name, self.options)


@dataclass(frozen=True)
class Config:
    path: Path
    terminal: Terminal
    devices: dict[str, DeviceConfig]
    display: Display = Display()
    session: SessionTimes = SessionTimes()
    maintenance: Maintenance = Maintenance()
    fleet: FleetOptions = FleetOptions()
    queue: QueueOptions = QueueOptions()
    store: StoreOptions = StoreOptions()
    upstream: UpstreamOptions = UpstreamOptions()


def config_path(explicit: str | None = None) -> Path:
    """``--config``, else ``$KIOSK_CONFIG``, else the packaged demo config."""
    return Path(explicit or os.environ.get("KIOSK_CONFIG") or DEMO_CONFIG)


def load(path: Path | str) -> Config:
    """Read and validate the config file at ``path``."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, N_("file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, N_("cannot read the file: {error}"), error=str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, N_("not valid TOML: {error}"), error=str(exc)) from None
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path | str = "<config>") -> Config:
    """Validate an already-decoded TOML document."""
    path = Path(path)
    unknown = set(raw) - {"devices", *_SECTIONS}
    if unknown:
        raise ConfigError(path, N_("unknown section [{section}]"), section=sorted(unknown)[0])
    sections = {key: _build(cls, _table(raw, key, path), key, path) for key, cls in _SECTIONS.items()}
    devices_raw = _table(raw, "devices", path)
    devices = {name: _device(name, section, path) for name, section in devices_raw.items()}
    return Config(path=path, devices=devices, **sections)


_SECTIONS = {"terminal": Terminal, "display": Display, "session": SessionTimes, "maintenance": Maintenance,
             "fleet": FleetOptions, "queue": QueueOptions, "store": StoreOptions,
             "upstream": UpstreamOptions}


def _table(raw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, N_("[{section}] must be a table"), section=key)
    return value


def _device(name: str, section: Any, path: Path) -> DeviceConfig:
    where = f"devices.{name}"
    if not isinstance(section, dict):
        raise ConfigError(path, N_("[{section}] must be a table"), section=where)
    section = dict(section)
    driver = section.pop("driver", None)
    if driver is None:
        raise ConfigError(path, N_("[{section}] key 'driver' is missing"), section=where)
    if not isinstance(driver, str) or driver not in DRIVERS:
        raise ConfigError(
            path,
            N_("[{section}] key 'driver': unknown driver '{driver}' (known: {known})"),
            section=where, driver=driver, known=", ".join(sorted(DRIVERS)),
        )
    options = _build(driver_class(driver).Options, section, where, path)
    return DeviceConfig(name=name, driver=driver, options=options)


def _build(cls: type, section: dict[str, Any], where: str, path: Path) -> Any:
    """An instance of dataclass ``cls`` from ``section``, every key checked."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in section:
        if key not in fields:
            raise ConfigError(
                path, N_("[{section}] unknown key '{key}' (known: {known})"),
                section=where, key=key, known=", ".join(fields) or "-",
            )
    values = {}
    for name, f in fields.items():
        if name in section:
            values[name] = _check(section[name], hints[name], where, name, path)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(path, N_("[{section}] key '{key}' is missing"), section=where, key=name)
    try:
        return cls(**values)
    except ValueError as exc:  # an Options.__post_init__ range check
        raise ConfigError(path, N_("[{section}] {error}"), section=where, error=str(exc)) from None


_TYPE_NAMES = {
    str: Msg(N_("a string")), int: Msg(N_("an integer")),
    float: Msg(N_("a number")), bool: Msg(N_("true or false")),
}


def _check(value: Any, hint: Any, where: str, key: str, path: Path) -> Any:
    """``value`` if it fits the type ``hint``; a ConfigError naming the key otherwise."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        return _check(value, arms[0], where, key, path)
    if origin in (tuple, list):
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise _type_error(path, where, key, Msg(N_("a list")), value)
        return tuple(_check(v, item, where, key, path) for v in value)
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint)
    if ok is None:
        raise TypeError(f"unsupported option type {hint!r} for {where}.{key}")
    if not ok:
        raise _type_error(path, where, key, _TYPE_NAMES[hint], value)
    return float(value) if hint is float else value


def _type_error(path: Path, where: str, key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(
        path, N_("[{section}] key '{key}' must be {expected}, not {value!r}"),
        section=where, key=key, expected=expected, value=value,
    )
