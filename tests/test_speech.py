"""Voice read-out through the real espeak-ng (installed from Debian's espeak-ng package).

This machine has no sound card, so where a read-out must stay running the test gives the
speaker a stand-in player process (``sleep``) in place of a loudspeaker; espeak-ng itself
is always the real one.
"""
from __future__ import annotations

import array
import logging
import shutil
import wave
from pathlib import Path

import pytest

from kiosk.speech import SpeechOptions, Speaker

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def loudness(path: Path) -> tuple[float, int]:
    """(seconds, peak absolute sample) of a 16-bit mono WAV file."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        samples = array.array("h", w.readframes(w.getnframes()))
        return w.getnframes() / w.getframerate(), max(map(abs, samples), default=0)


def test_mandarin_sentence_has_sound(tmp_path: Path):
    speaker = Speaker()
    assert speaker.available and speaker.voice("zh_CN") == "cmn"
    out = tmp_path / "zh.wav"
    assert speaker.synthesize("请把身份证放在读卡区。", out, "zh_CN")
    seconds, peak = loudness(out)
    assert seconds > 1.0 and peak > 1000


def test_slower_speed_gives_longer_speech(tmp_path: Path):
    slow, fast = tmp_path / "slow.wav", tmp_path / "fast.wav"
    assert Speaker(SpeechOptions(speed=100)).synthesize("欢迎使用二十四小时自助服务终端", slow)
    assert Speaker(SpeechOptions(speed=300)).synthesize("欢迎使用二十四小时自助服务终端", fast)
    assert loudness(slow)[0] > loudness(fast)[0] * 1.5


def test_english_voice(tmp_path: Path):
    out = tmp_path / "en.wav"
    assert Speaker().synthesize("Please place your ID card on the reader.", out, "en")
    assert loudness(out)[1] > 1000


def test_say_returns_at_once_and_a_new_say_stops_the_old(tmp_path: Path):
    speaker = Speaker(SpeechOptions(player=("sleep", "60")))
    assert speaker.say("第一句话" * 50)
    first = list(speaker._procs)
    assert speaker.speaking  # the player is still "playing": say() did not wait for it
    assert speaker.say("第二句话", "zh_CN")
    assert all(p.returncode is not None for p in first)
    assert speaker.speaking
    speaker.stop()
    assert not speaker.speaking


def test_missing_espeak_is_not_a_crash(caplog, tmp_path: Path):
    with caplog.at_level(logging.WARNING, logger="kiosk.speech"):
        speaker = Speaker(SpeechOptions(executable="no-such-espeak"))
    assert not speaker.available and "not installed" in speaker.reason
    assert "voice read-out is off" in caplog.text
    assert speaker.say("你好") is False and not speaker.speaking
    assert speaker.synthesize("你好", tmp_path / "x.wav") is False
    speaker.stop()


def test_missing_voice_and_empty_text(tmp_path: Path):
    speaker = Speaker(SpeechOptions(voice_zh="no-such-voice"))
    assert speaker.available and speaker.voice("zh_CN") is None and speaker.voice("en") == "en"
    assert speaker.say("你好", "zh_CN") is False
    assert speaker.say("   ", "en") is False


def test_options_are_checked():
    with pytest.raises(ValueError, match="speed"):
        SpeechOptions(speed=20)
    with pytest.raises(ValueError, match="pitch"):
        SpeechOptions(pitch=120)
