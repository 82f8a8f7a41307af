"""`kiosk`'s command line: options where a person types them."""
from __future__ import annotations

from kiosk.cli import _parser


def test_screenshots_takes_the_language_after_the_command_or_before_it():
    assert _parser().parse_args(["screenshots", "--out", "x", "--lang", "en"]).lang == "en"
    assert _parser().parse_args(["--lang", "en", "screenshots", "--out", "x"]).lang == "en"
    assert _parser().parse_args(["screenshots", "--out", "x"]).lang is None  # the config's
