"""Flatbed scanning through SANE, by running ``scanimage`` (sane-utils) as a subprocess.

A subprocess keeps a hung backend out of our process: it is killed on timeout.
Progress comes from ``scanimage --progress`` on stderr; a failed scan ends with
scanimage's exit status, which is the backend's SANE_Status.
"""
from __future__ import annotations

import logging
import os
import re
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from drivers.base import (Device, DeviceError, DeviceTimeout, DeviceUnavailable, MediaError,
                          Options, Recovery, Status)
from drivers.scanner.result import ScanResult, image_format
from l10n import N_

log = logging.getLogger(__name__)

MODES = ("Color", "Gray", "Lineart")
_PROGRESS = re.compile(r"Progress: (\d{1,3}(?:\.\d+)?)%")
_DEVICE_LINE = re.compile(r"^device `([^'\s]+)' is a (.+)$")


def parse_progress(text: str) -> list[float]:
    """The percentages in scanimage ``--progress`` output, in order; nonsense is dropped."""
    values = (float(m.group(1)) for m in _PROGRESS.finditer(text))
    return [v for v in values if 0.0 <= v <= 100.0]


def parse_devices(text: str) -> dict[str, str]:
    """``scanimage -L`` output → {device name: description}; other lines are ignored."""
    found = {}
    for line in text.splitlines():
        m = _DEVICE_LINE.match(line.strip())
        if m:
            found[m.group(1)] = m.group(2)
    return found


@dataclass(frozen=True)
class SaneOptions(Options):
    """``[devices.NAME] driver = "sane"``.

    device: SANE device name (``scanimage -L``), e.g. "test:0". resolution: dpi.
    mode: "Color", "Gray" or "Lineart". config_dir: SANE_CONFIG_DIR (which backends
    exist; default: the system's /etc/sane.d). timeout_s: a whole scan, or a probe.
    """

    device: str
    resolution: int = 300
    mode: str = "Color"
    config_dir: str | None = None
    timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if not self.device:
            raise ValueError("device: must not be empty")
        if not 25 <= self.resolution <= 2400:
            raise ValueError("resolution: must be between 25 and 2400 dpi")
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of {', '.join(MODES)}")
        if not 0 < self.timeout_s <= 3600:
            raise ValueError("timeout_s: must be between 0 and 3600 seconds")


# scanimage's exit status is the SANE_Status of the failing call.
_SANE_ERRORS = {
    3: (DeviceTimeout, "scanner.busy", N_("The scanner is busy")),
    6: (MediaError, "scanner.jammed", N_("The document is jammed in the scanner")),
    7: (MediaError, "scanner.no_docs", N_("There is no document in the scanner")),
    8: (MediaError, "scanner.cover_open", N_("The scanner cover is open")),
    9: (DeviceError, "scanner.io_error", N_("The scanner reported an I/O error")),
    11: (DeviceUnavailable, "scanner.access_denied", N_("No permission to use the scanner")),
}


class SaneScanner(Device):
    kind = "scanner"
    Options = SaneOptions

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.options.config_dir:
            env["SANE_CONFIG_DIR"] = self.options.config_dir
        return env

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(["scanimage", *args], capture_output=True, text=True,
                                  errors="replace", timeout=timeout, env=self._env())
        except FileNotFoundError:
            self._set_state(Status.NO_DEVICE, error="no_scanimage")
            raise DeviceUnavailable("scanner.no_scanimage", N_(
                "The scanimage program is not installed: install the package {package}"),
                package="sane-utils") from None
        except subprocess.TimeoutExpired:
            self._set_state(Status.OFFLINE, error="timeout")
            raise DeviceTimeout("scanner.timeout", N_("The scanner did not answer in {seconds} s"),
                                seconds=round(timeout)) from None

    # -- status ------------------------------------------------------------------
    def probe(self) -> None:
        listed = parse_devices(self._run(["-L"], min(self.options.timeout_s, 30.0)).stdout)
        if self.options.device in listed:
            self._set_state(Status.ONLINE, error="")
        else:
            self._set_state(Status.NO_DEVICE, error="not_found")

    def check_environment(self) -> list[DeviceError]:
        if shutil.which("scanimage") is None:
            return [DeviceUnavailable("scanner.no_scanimage", N_(
                "The scanimage program is not installed: install the package {package}"),
                package="sane-utils")]
        if self.options.config_dir and not (Path(self.options.config_dir) / "dll.conf").is_file():
            return [DeviceUnavailable("scanner.no_config", N_(
                "The SANE configuration {path} is missing"), path=self.options.config_dir)]
        try:
            self.probe()
        except DeviceError as exc:
            return [exc]
        if self.state.status is Status.NO_DEVICE:
            return [self._not_found()]
        return []

    def _not_found(self) -> DeviceUnavailable:
        return DeviceUnavailable("scanner.not_found", N_(
            "The scanner {device} was not found: check its cable and power, and its SANE backend"),
            device=self.options.device)

    # -- scanning ----------------------------------------------------------------
    def scan(self, out: Path | str, *, resolution: int | None = None, mode: str | None = None,
             area: tuple[float, float, float, float] | None = None,
             progress: Callable[[float], None] | None = None) -> Future[ScanResult]:
        """Scan to the image file ``out`` (.png, .jpg or .tiff).

        ``area`` is (x, y, width, height) in mm from the top-left corner of the glass;
        ``progress`` receives percentages 0-100 on the device's worker thread.
        """
        out = Path(out)
        fmt = image_format(out)
        resolution = resolution or self.options.resolution
        mode = mode or self.options.mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        args = ["-d", self.options.device, f"--format={fmt}", "-o", str(out), "--progress",
                f"--resolution={resolution}", f"--mode={mode}"]
        if area is not None:
            x, y, w, h = area
            if min(area) < 0 or w <= 0 or h <= 0:
                raise ValueError(f"area must be (x, y, width, height) in mm, not {area}")
            args += ["-l", f"{x:g}", "-t", f"{y:g}", "-x", f"{w:g}", "-y", f"{h:g}"]
        return self.submit(self._scan, args, out, resolution, mode, progress)

    def _scan(self, args: list[str], out: Path, resolution: int, mode: str,
              progress: Callable[[float], None] | None) -> ScanResult:
        if self.state.status is Status.NO_DEVICE:
            self.probe()
            if self.state.status is Status.NO_DEVICE:
                raise self._not_found()
        self._set_state(Status.BUSY)
        out.parent.mkdir(parents=True, exist_ok=True)
        returncode, stderr = self._run_scan(args, progress)
        if returncode != 0:
            out.unlink(missing_ok=True)  # a half-written image is never handed on
            raise self._failure(returncode, stderr)
        try:
            with Image.open(out) as image:
                width, height = image.size
        except OSError as exc:
            self._set_state(Status.HARDWARE_ERROR, error="bad_image")
            raise DeviceError("scanner.bad_image", N_("The scanner sent an unreadable image: {error}"),
                              recovery=Recovery.RETRY, error=str(exc)) from None
        self._set_state(Status.ONLINE, error="")
        return ScanResult(out, width, height, resolution, mode, self.options.device)

    def _run_scan(self, args: list[str], progress: Callable[[float], None] | None) -> tuple[int, str]:
        """Run scanimage, feeding progress as it comes; kill it when time is up."""
        try:
            proc = subprocess.Popen(["scanimage", *args], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self._env())
        except FileNotFoundError:
            self._set_state(Status.NO_DEVICE, error="no_scanimage")
            raise DeviceUnavailable("scanner.no_scanimage", N_(
                "The scanimage program is not installed: install the package {package}"),
                package="sane-utils") from None
        deadline = time.monotonic() + self.options.timeout_s
        chunks: list[bytes] = []
        with proc, selectors.DefaultSelector() as sel:
            sel.register(proc.stderr, selectors.EVENT_READ)
            pending = ""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._timed_out(proc)
                if not sel.select(timeout=min(left, 0.5)):
                    continue
                data = os.read(proc.stderr.fileno(), 4096)
                if not data:
                    break
                chunks.append(data)
                pending += data.decode("ascii", "replace")
                *done, pending = re.split(r"[\r\n]", pending)
                if progress is not None:
                    for value in parse_progress("\n".join(done)):
                        progress(value)
            try:  # stderr closed; scanimage still has until the deadline to exit
                returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise self._timed_out(proc) from None
        return returncode, b"".join(chunks).decode("utf-8", "replace")

    def _timed_out(self, proc: subprocess.Popen) -> DeviceTimeout:
        """Kill a scan that ran out of time (so ``with proc`` does not wait for it)."""
        proc.kill()
        self._set_state(Status.HARDWARE_ERROR, error="timeout")
        return DeviceTimeout("scanner.timeout", N_("The scanner did not answer in {seconds} s"),
                             seconds=round(self.options.timeout_s))

    def _failure(self, returncode: int, stderr: str) -> DeviceError:
        lines = [ln for ln in re.split(r"[\r\n]", stderr) if ln.strip() and not _PROGRESS.search(ln)]
        detail = lines[-1].removeprefix("scanimage: ") if lines else f"exit status {returncode}"
        log.warning("%s: scanimage failed (%d): %s", self.name, returncode, detail)
        if "open of device" in detail:
            self._set_state(Status.NO_DEVICE, error="not_found")
            return self._not_found()
        if "setting of option" in detail:
            self._set_state(Status.ONLINE, error="")
            return DeviceError("scanner.bad_option", N_("The scanner does not support this setting: {error}"),
                               error=detail)
        if returncode in _SANE_ERRORS:
            cls, code, msgid = _SANE_ERRORS[returncode]
            self._set_state(Status.HARDWARE_ERROR, error=code.removeprefix("scanner."))
            return cls(code, msgid)
        self._set_state(Status.HARDWARE_ERROR, error="failed")
        return DeviceError("scanner.failed", N_("The scan failed: {error}"), recovery=Recovery.RETRY,
                           error=detail)
