"""Voice read-out of the screen through espeak-ng: Mandarin first, slow for elderly ears.

``Speaker.say`` starts espeak-ng in the background and returns at once; a new ``say``
stops whatever is still being read. Without espeak-ng (or its voice) the speaker is
``available`` False, says why in the log and ``say`` does nothing: the terminal must
never fail for want of a voice. The text goes to espeak-ng on its standard input, never
into a file or the process list (it may hold the visitor's name).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # characters read at once; fits the pipe, so writing never blocks
TIMEOUT = 10.0  # seconds for espeak-ng to answer a question or to render a file


@dataclass(frozen=True)
class SpeechOptions:
    executable: str = "espeak-ng"
    speed: int = 130  # words per minute; espeak-ng's default is 175
    pitch: int = 50
    voice_zh: str = "cmn"  # Mandarin (``espeak-ng --voices=zh`` lists what is installed)
    voice_en: str = "en"
    player: tuple[str, ...] = ()  # e.g. ("aplay", "-q"): pipe espeak-ng's WAV into it

    def __post_init__(self) -> None:
        if not 80 <= self.speed <= 450:
            raise ValueError("speed must be between 80 and 450 words per minute")
        if not 0 <= self.pitch <= 99:
            raise ValueError("pitch must be between 0 and 99")

    @property
    def voices(self) -> dict[str, str]:
        """Language → voice."""
        return {"zh_CN": self.voice_zh, "zh": self.voice_zh, "en": self.voice_en}


class Speaker:
    """Reads text aloud, one utterance at a time."""

    def __init__(self, options: SpeechOptions | None = None):
        self.options = options or SpeechOptions()
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen] = []
        self.reason = ""  # why the speaker is not available
        self.executable = shutil.which(self.options.executable)
        self.voices: set[str] = set()
        if self.executable is None:
            self.reason = f"{self.options.executable} is not installed"
        else:
            self.voices = {v for v in set(self.options.voices.values()) if self._has_voice(v)}
            if not self.voices:
                self.reason = f"{self.options.executable} has none of the voices {sorted(set(self.options.voices.values()))}"
        if self.reason:
            log.warning("voice read-out is off: %s", self.reason)

    @property
    def available(self) -> bool:
        return not self.reason

    def _has_voice(self, voice: str) -> bool:
        try:
            out = subprocess.run([self.executable, f"--voices={voice}"], capture_output=True, text=True,
                                 timeout=TIMEOUT, check=False).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("%s --voices failed: %s", self.executable, exc)
            return False
        if any(line.split()[1:2] == [voice] for line in out.splitlines()[1:]):
            return True
        log.warning("%s has no voice %r", self.executable, voice)
        return False

    def voice(self, language: str) -> str | None:
        """The espeak-ng voice for ``language`` ("zh_CN", "en"), if installed."""
        voices = self.options.voices
        voice = voices.get(language) or voices.get(language.split("_")[0])
        return voice if voice in self.voices else None

    def _args(self, voice: str) -> list[str]:
        return [self.executable, "-v", voice, "-s", str(self.options.speed), "-p", str(self.options.pitch)]

    def say(self, text: str, language: str = "zh_CN") -> bool:
        """Start reading ``text``; stops the previous read-out. False if it cannot speak."""
        self.stop()
        voice = self.voice(language) if self.available else None
        text = text.strip()[:MAX_TEXT]
        if voice is None or not text:
            return False
        args = self._args(voice) + (["--stdout"] if self.options.player else [])
        with self._lock:
            try:
                speak = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE if self.options.player else subprocess.DEVNULL)
                self._procs = [speak]
                if self.options.player:
                    self._procs.append(subprocess.Popen(self.options.player, stdin=speak.stdout,
                                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                    speak.stdout.close()  # the player holds the read end now
                speak.stdin.write(text.encode("utf-8"))
                speak.stdin.close()
            except OSError as exc:
                log.warning("voice read-out failed: %s", exc)
                self._stop_locked()
                return False
        return True

    @property
    def speaking(self) -> bool:
        with self._lock:
            return any(p.poll() is None for p in self._procs)

    def stop(self) -> None:
        """Stop the read-out now, if one is running."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("speech process %d did not stop", proc.pid)
        self._procs = []

    def synthesize(self, text: str, path: Path, language: str = "zh_CN") -> bool:
        """Render ``text`` to a WAV file (blocking, with a timeout); False if it cannot."""
        voice = self.voice(language) if self.available else None
        if voice is None:
            return False
        try:
            result = subprocess.run(self._args(voice) + ["-w", str(path)], input=text.encode("utf-8"),
                                    capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("speech synthesis failed: %s", exc)
            return False
        if result.returncode != 0:
            log.warning("espeak-ng exited %d: %s", result.returncode, result.stderr.decode(errors="replace").strip())
        return result.returncode == 0
