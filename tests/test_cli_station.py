"""`kiosk devices` end to end: the CLI as a subprocess against the whole simulated station."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from drivers.sim.station import SimulatedStation
from kiosk import config

KIOSK = [sys.executable, "-m", "kiosk.cli"]


@pytest.fixture(scope="module")
def station():
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-station-", dir="/tmp"))
    try:
        with SimulatedStation(run_dir, printer_port=0) as sim:
            path = run_dir / "kiosk.toml"
            path.write_text(sim.config_text(), encoding="utf-8")
            sim.config_path = path
            yield sim
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def kiosk(station, *args, timeout=60):
    return subprocess.run([*KIOSK, "--config", str(station.config_path), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_packaged_demo_config_is_the_station_at_the_demo_run_dir(station):
    text = station.config_text().replace(str(station.run_dir), str(config.DEMO_RUN_DIR))
    text = text.replace(f"port = {station.printer.port}\n", "port = 19100\n")
    assert config.DEMO_CONFIG.read_text(encoding="utf-8") == text


def test_every_simulated_device_is_online(station):
    result = kiosk(station, "devices", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"idcard", "staffcard", "receipt", "a4", "scanner", "camera"}
    assert {name: row["status"] for name, row in rows.items()} == dict.fromkeys(rows, "online")
    assert rows["receipt"]["detail"]["paper"] == "ok"


def test_list_as_a_table_in_chinese(station):
    result = kiosk(station, "devices", "list")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split() == ["设备", "类型", "驱动", "状态", "详情"]
    assert "receipt    receipt_printer  escpos  在线" in result.stdout


def test_read_id_json_keys(station):
    station.samv.insert()
    result = kiosk(station, "devices", "read-id", "--json", "--timeout", "5")
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)
    assert list(fields) == ["id_number", "name", "gender", "nation", "birth_date", "address",
                            "authority", "valid_from", "valid_to", "card_type"]
    assert fields["id_number"] == station.samv.card.id_number
    assert fields["name"] == station.samv.card.name


def test_read_id_without_a_card_exits_3_with_a_chinese_message(station):
    station.samv.remove()
    try:
        result = kiosk(station, "devices", "read-id", "--timeout", "1")
    finally:
        station.samv.insert()
    assert result.returncode == 3
    assert "身份证" in result.stderr and "Traceback" not in result.stderr


def test_device_error_exits_1(station):
    station.sane.set_fault("jammed")
    try:
        result = kiosk(station, "--lang", "en", "devices", "scan", "scanner", "--out",
                       str(station.run_dir / "jam.png"))
    finally:
        station.sane.set_fault(None)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "jam" in result.stderr.lower()


def test_print_test_receipt_reaches_the_printer(station):
    before = len(station.printer.documents)
    result = kiosk(station, "devices", "print-test", "receipt")
    assert result.returncode == 0, result.stderr
    document = station.printer.wait_documents(before + 1)[-1]
    assert any("测试" in line for line in document.texts) and document.qr_codes


def test_print_test_a4_page_comes_out_of_cups_pdf(station):
    before = len(station.cups.printed())
    result = kiosk(station, "devices", "print-test", "a4")
    assert result.returncode == 0, result.stderr
    assert len(station.cups.printed()) == before + 1


def test_scan_writes_an_image(station):
    out = station.run_dir / "page.png"
    result = kiosk(station, "devices", "scan", "scanner", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "100%" in result.stdout


def test_unknown_device_and_bad_config_exit_2(station, tmp_path):
    assert kiosk(station, "devices", "print-test", "nothing").returncode == 2
    assert kiosk(station, "devices", "print-test", "scanner").returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[devices.idcard]\ndriver = "samv"\n', encoding="utf-8")
    result = subprocess.run([*KIOSK, "--config", str(bad), "devices", "list"], capture_output=True, text=True)
    assert result.returncode == 2 and "[devices.idcard]" in result.stderr and "port" in result.stderr


def test_watch_prints_changes_as_they_happen(station, tmp_path):
    stderr = (tmp_path / "stderr").open("w+")
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", *KIOSK[1:], "--config", str(station.config_path),
                             "devices", "watch", "--json"], stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        initial = [json.loads(proc.stdout.readline()) for _ in range(6)]
        assert {row["device"] for row in initial} == {"idcard", "staffcard", "receipt", "a4", "scanner", "camera"}
        station.printer.fault = "paper_out"
        while True:
            change = json.loads(proc.stdout.readline())
            if change["device"] == "receipt" and change["detail"].get("paper") == "out":
                break
        assert "paper" in change["changed"]
    finally:
        station.printer.fault = "none"
        proc.send_signal(signal.SIGINT)
        try:
            returncode = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # what it waits on: faulthandler prints every thread's stack
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=15)
            stderr.seek(0)
            raise AssertionError("Ctrl-C did not end the watch within 15 s:\n" + stderr.read()[-6000:]) from None
        finally:
            proc.kill()
            stderr.close()
    assert returncode == 0
