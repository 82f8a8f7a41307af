"""The samv driver against the simulated SAM reader on a real pty pair, fault by fault."""
from __future__ import annotations

import os
import tempfile
import threading

import pytest

from drivers.base import DeviceTimeout, DeviceUnavailable, MediaError, ProtocolError, Status
from drivers.idcard import samv_protocol as sp
from drivers.idcard.samv import SamvOptions, SamvReader
from drivers.sim.samv_reader import DEMO_IDENTITIES
from kiosk.config import ConfigError, parse
from tests._samv_fixtures import reader, sim, wait_until  # noqa: F401  (fixtures)


# -- frames from published bytes ----------------------------------------------
@pytest.mark.parametrize("command, wire", [
    (sp.STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (sp.FIND, "AA AA AA 96 69 00 03 20 01 22"),
    (sp.SELECT, "AA AA AA 96 69 00 03 20 02 21"),
    (sp.READ, "AA AA AA 96 69 00 03 30 01 32"),
])
def test_requests_match_the_published_frames(command, wire):
    assert sp.request(command) == bytes.fromhex(wire)


def test_published_find_answer_is_parsed():
    buf = bytearray(bytes.fromhex("00 13 AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97 AA AA"))
    answer = sp.parse_response(sp.take_frame(buf))
    assert (answer.sw1, answer.sw2, answer.sw3, answer.data) == (0, 0, 0x9F, bytes(4))
    assert buf == bytearray(b"\xAA\xAA")  # a possible preamble start is kept


def test_bad_checksum_is_refused():
    with pytest.raises(sp.FrameError) as info:
        sp.take_frame(bytearray(bytes.fromhex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 96")))
    assert info.value.params["problem"] == "checksum"


# -- the driver on the pty ------------------------------------------------------
@pytest.mark.parametrize("identity", DEMO_IDENTITIES, ids=lambda i: i.name)
def test_reads_each_demo_identity(sim, reader, identity):
    sim.insert(identity)
    assert reader.read_identity(timeout=5).result() == identity
    assert reader.state.status is Status.ONLINE and reader.state.detail["card"] == "present"


def test_no_card_times_out(sim, reader):
    with pytest.raises(DeviceTimeout) as info:
        reader.read_identity(timeout=0.3).result()
    assert info.value.code == "idcard.no_card"
    assert reader.state.detail["card"] == "absent"


def test_waits_for_a_card_placed_during_the_read(sim, reader):
    future = reader.read_identity(timeout=10)
    assert wait_until(lambda: sim.received.count(sp.FIND) >= 3)
    sim.insert(DEMO_IDENTITIES[1])
    assert future.result().id_number == DEMO_IDENTITIES[1].id_number


@pytest.mark.parametrize("fault", ["garbage", "split"])
def test_garbage_and_split_frames_still_read(sim, reader, fault):
    sim.insert()
    sim.set_fault(fault)
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]


def test_one_bad_checksum_is_retried(sim, reader):
    sim.insert()
    assert wait_until(lambda: reader.state.status is Status.ONLINE)
    sim.set_fault("bad_checksum", count=1)
    before = len(sim.received)
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]
    assert len(sim.received) - before >= 4  # find, find again, select, read


def test_bad_checksums_end_in_a_protocol_error_and_recover(sim, reader):
    sim.insert()
    sim.set_fault("bad_checksum")
    with pytest.raises(ProtocolError) as info:
        reader.read_identity(timeout=5).result()
    assert info.value.code == "idcard.bad_frame"
    sim.clear_fault()
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]


def test_card_pulled_mid_read(sim, reader):
    sim.insert()
    sim.set_fault("pulled_mid_read")
    with pytest.raises(MediaError) as info:
        reader.read_identity(timeout=5).result()
    assert info.value.code == "idcard.card_removed"
    assert reader.state.status is Status.ONLINE and reader.state.detail["card"] == "absent"


def test_silent_reader_goes_offline_and_comes_back(sim, reader):
    sim.insert()
    sim.set_fault("silent")
    with pytest.raises(DeviceUnavailable) as info:
        reader.read_identity(timeout=5).result()
    assert info.value.code == "idcard.not_answering"
    assert reader.state.status is Status.OFFLINE
    sim.clear_fault()
    assert wait_until(lambda: reader.state.status is Status.ONLINE)


def test_module_self_test_failure_is_a_hardware_error(sim, reader):
    sim.set_fault("self_test_failed")
    assert reader.refresh().result().status is Status.HARDWARE_ERROR
    with pytest.raises(DeviceUnavailable) as info:
        reader.read_identity(timeout=1).result()
    assert info.value.code == "idcard.module_failed"
    sim.clear_fault()
    assert wait_until(lambda: reader.state.status is Status.ONLINE)


def test_unplugged_and_plugged_back(sim, reader):
    sim.insert()
    assert wait_until(lambda: reader.state.status is Status.ONLINE)
    sim.unplug()
    assert wait_until(lambda: reader.state.status is Status.OFFLINE)
    assert [e.code for e in reader.check_environment()] == ["idcard.port_missing"]
    with pytest.raises(DeviceUnavailable) as info:
        reader.read_identity(timeout=1).result()
    assert info.value.code == "idcard.port_missing"
    sim.plug()
    assert wait_until(lambda: reader.state.status is Status.ONLINE)
    assert reader.check_environment() == []
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]


def test_replugged_between_polls_is_read_on_the_new_port(sim, reader):
    sim.insert()
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]
    sim.unplug()
    sim.plug()
    assert reader.read_identity(timeout=5).result() == DEMO_IDENTITIES[0]


def test_monitor_reports_card_placed_and_removed(sim, reader):
    changes = []
    reader.subscribe(changes.append)
    assert wait_until(lambda: reader.state.detail.get("card") == "absent")
    sim.insert()
    assert wait_until(lambda: reader.state.detail.get("card") == "present")
    sim.remove()
    assert wait_until(lambda: reader.state.detail.get("card") == "absent")
    cards = [c.new.detail.get("card") for c in changes if "card" in c.changed]
    assert cards[-2:] == ["present", "absent"]


def test_probe_without_a_port(tmp_path):
    device = SamvReader("idcard", SamvOptions(port=str(tmp_path / "ttyUSB9")))
    try:
        state = device.refresh().result()
        assert state.status is Status.OFFLINE
        problems = device.check_environment()
        assert [p.code for p in problems] == ["idcard.port_missing"]
        assert str(tmp_path / "ttyUSB9") in problems[0].message("en")
    finally:
        device.close()


def test_close_interrupts_a_wait_for_a_card(sim, reader):
    future = reader.read_identity(timeout=60)
    assert wait_until(lambda: sp.FIND in sim.received)
    threading.Thread(target=reader.close).start()
    with pytest.raises(DeviceUnavailable):
        future.result(timeout=30)


# -- configuration ----------------------------------------------------------------
def test_simulator_config_section_builds_the_driver(sim):
    config = parse({"devices": {"idcard": sim.config_section()}}, "kiosk.toml")
    device = config.devices["idcard"].create()
    try:
        assert isinstance(device, SamvReader)
        assert device.refresh().result().status is Status.ONLINE
    finally:
        device.close()


@pytest.mark.parametrize("section, key", [
    ({"driver": "samv"}, "port"),
    ({"driver": "samv", "port": "/dev/x", "baudrate": 12345}, "baudrate"),
    ({"driver": "samv", "port": "/dev/x", "timeout_s": 0}, "timeout_s"),
    ({"driver": "samv", "port": "/dev/x", "parity": "N"}, "parity"),
])
def test_config_mistakes_name_the_key(section, key):
    with pytest.raises(ConfigError) as info:
        parse({"devices": {"idcard": section}}, "kiosk.toml")
    assert key in str(info.value) and "devices.idcard" in str(info.value)


def test_no_permission_on_the_port_is_reported():
    """Root may open anything, so as root the check runs in a forked child that drops to 'nobody'."""
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chmod(folder, 0o755)
        port = os.path.join(folder, "ttyUSB0")
        with open(port, "wb"):
            pass
        os.chmod(port, 0o600)
        device = SamvReader("idcard", SamvOptions(port=port))
        try:
            if os.getuid() != 0:
                found = ",".join(e.code for e in device.check_environment())
            else:
                found = _as_nobody(lambda: ",".join(e.code for e in device.check_environment()))
        finally:
            device.close()
    assert found == "idcard.port_permission"


def _as_nobody(fn) -> str:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, fn().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        found = pipe.read()
    os.waitpid(child, 0)
    return found
