"""The in-memory log ring buffer: bounded, thread-safe, formatted lines."""
from __future__ import annotations

import logging
import threading

import pytest

from kiosk.logbuffer import LogBuffer, install


@pytest.fixture
def logger():
    log = logging.getLogger(f"test.logbuffer.{threading.get_ident()}.{id(object())}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    log.handlers.clear()


def test_keeps_only_the_newest_lines(logger):
    buffer = LogBuffer(capacity=5)
    logger.addHandler(buffer)
    for i in range(12):
        logger.info("line %d", i)
    lines = buffer.lines()
    assert len(lines) == 5
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["7", "8", "9", "10", "11"]
    assert buffer.count == 12
    assert buffer.lines(2) == lines[-2:]
    assert buffer.lines(0) == []


def test_lines_are_formatted_with_time_level_and_logger(logger):
    buffer = LogBuffer()
    logger.addHandler(buffer)
    logger.warning("printer %s: %s", "receipt", "paper out")
    (line,) = buffer.lines()
    time_part, level, name, message = line.split(" ", 3)
    assert len(time_part) == 8 and time_part[2] == ":" and time_part[5] == ":"
    assert level == "WARNING"
    assert name == logger.name + ":"
    assert message == "printer receipt: paper out"


def test_a_traceback_takes_one_line_each_and_level_filters(logger):
    buffer = LogBuffer(level=logging.INFO)
    logger.addHandler(buffer)
    logger.debug("not kept")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    lines = buffer.lines()
    assert lines[0].endswith("failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: boom"
    assert not any("not kept" in line for line in lines)


def test_a_bad_message_does_not_break_logging(logger, monkeypatch):
    monkeypatch.setattr(logging, "raiseExceptions", False)
    buffer = LogBuffer()
    logger.addHandler(buffer)
    logger.info("%d", "not a number")
    logger.info("after")
    assert buffer.lines()[-1].endswith("after")


def test_concurrent_writers_and_a_reader(logger):
    buffer = LogBuffer(capacity=100)
    logger.addHandler(buffer)
    threads, per_thread = 8, 500
    seen_lengths = []
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(per_thread):
            logger.info("t%d-%d", n, i)

    def read() -> None:
        while not done.is_set():
            seen_lengths.append(len(buffer.lines()))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    reader.join()
    assert buffer.count == threads * per_thread
    assert len(buffer.lines()) == 100
    assert max(seen_lengths) <= 100
    last = {}  # each writer's lines stay in its own order
    for line in buffer.lines():
        n, i = line.rsplit(" ", 1)[1][1:].split("-")
        assert int(i) > last.get(n, -1)
        last[n] = int(i)


def test_install_adds_one_buffer_and_keeps_other_handlers_quiet(logger):
    logger.setLevel(logging.WARNING)
    console = logging.Handler()
    printed = []
    console.emit = printed.append
    logger.addHandler(console)
    buffer = install(capacity=10, logger=logger)
    assert install(logger=logger) is buffer
    assert sum(isinstance(h, LogBuffer) for h in logger.handlers) == 1
    logger.info("device online")
    logger.warning("device offline")
    assert [line.rsplit(": ", 1)[1] for line in buffer.lines()] == ["device online", "device offline"]
    assert [r.getMessage() for r in printed] == ["device offline"]


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        LogBuffer(capacity=0)
