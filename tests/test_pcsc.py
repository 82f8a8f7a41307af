"""PC/SC driver against a real private pcscd with vsmartcard's vpcd reader and the virtual card.

One pcscd per module: libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so every
test uses the same socket path (pcscd is stopped and restarted on it where a test needs).
"""
from __future__ import annotations

import pytest

from drivers.base import DeviceTimeout, DeviceUnavailable, MediaError, ProtocolError, Status
from drivers.idcard.pcsc import CardEvent, PcscOptions, PcscReader
from drivers.sim.pcscd import PcscDaemon
from drivers.sim.vpcd_card import SOCIAL_SECURITY, VirtualCard
from kiosk.config import parse
from tests._pcsc_fixtures import Events, make_reader, no_card_on, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with PcscDaemon(tmp_path_factory.mktemp("pcscd")) as d:
        yield d


@pytest.fixture
def running(daemon):
    daemon.start()  # a test before may have stopped it
    return daemon


@pytest.fixture
def reader(running):
    r = make_reader(running)
    r.start()
    yield r
    r.close()


def card(daemon, profile="badge"):
    no_card_on(daemon)
    return VirtualCard(daemon, profile)


def test_badge_uid_and_insert_remove_events(running, reader):
    events = Events(reader)
    assert wait_for(lambda: reader.state.detail["reader"] == "present")
    assert reader.state.status is Status.ONLINE and reader.state.detail["card"] == "absent"
    with card(running) as badge:
        assert wait_for(lambda: len(events.cards) == 1)
        assert reader.read_uid(timeout=5).result(30) == "04A22B5C"
        badge.remove()
        assert wait_for(lambda: len(events.cards) == 2)
    inserted, removed = events.cards
    assert inserted == CardEvent("Kiosk Virtual PCD 00 00", True, "3B8F8001804F0CA000000306030001000000006A", "04A22B5C")
    assert removed.removed and removed.reader == inserted.reader
    assert reader.state.detail["card"] == "absent"
    assert "card" in events.changes[-1].changed


def test_social_security_profile(running, reader):
    with card(running, "social_security") as c:
        fields = reader.read_profile("social_security", timeout=5).result(30)
        assert fields == SOCIAL_SECURITY
        assert c.apdus[1] == bytes.fromhex("00C000000F")  # 61xx was followed by GET RESPONSE
        assert bytes.fromhex("00B0850042") in c.apdus  # 6Cxx was followed by a re-issue


def test_no_card_times_out(running, reader):
    no_card_on(running)
    with pytest.raises(DeviceTimeout) as caught:
        reader.read_uid(timeout=0.5).result(30)
    assert caught.value.code == "idcard.no_card"


def test_badge_cannot_be_read_as_social_security_card(running, reader):
    with card(running):
        with pytest.raises(MediaError) as caught:
            reader.read_profile("social_security", timeout=5).result(30)
    assert caught.value.code == "idcard.card_refused" and caught.value.params["sw"] == "6D00"


def test_garbage_response_is_a_protocol_error_then_recovers(running, reader):
    with card(running) as badge:
        badge.set_fault("garbage")
        with pytest.raises(ProtocolError) as caught:
            reader.read_uid(timeout=5).result(30)
        assert caught.value.code == "idcard.bad_response"
        badge.set_fault(None)
        assert reader.read_uid(timeout=5).result(30) == "04A22B5C"


def test_card_removed_mid_transaction(running, reader):
    with card(running, "social_security") as c:
        c.set_fault("removed_mid_transaction")
        with pytest.raises(MediaError) as caught:
            reader.read_profile(timeout=5, name="social_security").result(30)
        assert caught.value.code == "idcard.card_removed"
        assert wait_for(lambda: reader.state.detail["card"] == "absent")
        c.insert()
        assert reader.read_profile("social_security", timeout=10).result(30)["name"] == "张三"


def test_mute_card_times_out_and_reader_recovers_after_removal(running, reader):
    with card(running, "social_security") as c:
        c.set_fault("mute")
        with pytest.raises(DeviceTimeout) as caught:
            reader.read_profile("social_security", timeout=5).result(30)
        assert caught.value.code == "idcard.card_mute"
        c.remove()
        c.set_fault(None)
        c.insert()
        assert reader.read_profile("social_security", timeout=10).result(30)["id_number"] == "11010519491231002X"


def test_pcscd_stopped_is_offline_and_recovers(running, reader):
    assert wait_for(lambda: reader.state.detail["reader"] == "present")
    no_card_on(running)
    events = Events(reader)
    with card(running):
        assert wait_for(lambda: reader.state.detail["card"] == "present")
        running.stop()
        assert wait_for(lambda: reader.state.status is Status.OFFLINE)
        assert dict(reader.state.detail) == {"reader": "absent", "card": "absent"}
        assert [e.code for e in reader.check_environment()] == ["idcard.pcscd_not_running"]
        with pytest.raises(DeviceUnavailable):
            reader.read_uid(timeout=1).result(30)
        running.start()
        assert wait_for(lambda: reader.state.status is Status.ONLINE and reader.state.detail["card"] == "present")
    assert reader.check_environment() == []
    readers = [(c.old.detail.get("reader"), c.new.detail.get("reader")) for c in events.changes if "reader" in c.changed]
    assert readers == [("present", "absent"), ("absent", "present")]
    assert [e.inserted for e in events.cards][:3] == [True, False, True]


def test_no_matching_reader_is_no_device(running):
    r = make_reader(running, reader="No Such Reader")
    try:
        r.refresh().result(30)
        assert r.state.status is Status.NO_DEVICE and r.state.detail["reader"] == "absent"
        assert [e.code for e in r.check_environment()] == ["idcard.no_reader_named"]
    finally:
        r.close()


def test_config_section_builds_a_working_reader(running):
    with card(running, "social_security") as c:
        config = parse({"devices": {"ssc": c.config_section()}})
        device = config.devices["ssc"].create()
        try:
            assert isinstance(device, PcscReader) and device.kind == "smartcard"
            assert device.read_profile(timeout=5).result(30)["card_number"] == "K12345678"
        finally:
            device.close()


def test_options_are_range_checked():
    with pytest.raises(ValueError, match="poll_interval_s"):
        PcscOptions(poll_interval_s=0)
    with pytest.raises(ValueError, match="profile"):
        PcscOptions(profile="passport")


def test_staff_badge_through_pcscd(running, reader):
    from kiosk.staff import StaffBadges
    seen = []
    StaffBadges(["04a22b5c"]).watch([reader], seen.append)
    with card(running) as badge:
        assert wait_for(lambda: seen == ["04A22B5C"])
        badge.remove()
        assert wait_for(lambda: seen == ["04A22B5C", None])
