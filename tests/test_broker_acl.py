"""The broker's security against a real mosquitto run from deploy/mosquitto/: per-terminal
accounts, the ACL, TLS with client certificates.

A denied publish is shown by what the manager's account receives: the terminal then
publishes an allowed message on the same connection, and that one arrives first.
"""
from __future__ import annotations

import socket
import ssl

import paho.mqtt.client as mqtt
import pytest

from fleet import credentials
from fleet import protocol as p
from fleet.local_broker import DEPLOY, config_text
from tests._mosquitto import MANAGER, Watcher, broker_fixtures

pytestmark = pytest.mark.timeout(120)


mq, manager = broker_fixtures("acl", {"kiosk-a": ("county-x",), "kiosk-b": ("county-y",)})


def _event(seq: int) -> bytes:
    return p.Event(p.Stamp(p.now(), seq, "boot"), "test.marker", "info").to_json()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv5, mqtt.MQTTv311])
def test_terminal_cannot_publish_under_another_id_nor_jobs(mq, manager, protocol):
    kiosk = Watcher(mq, "kiosk-a", subscribe=(), protocol=protocol)
    try:
        forbidden = [p.state_topic("kiosk-b"), p.events_topic("kiosk-b"), p.job_status_topic("kiosk-b", "job-1"),
                     p.job_topic("kiosk-b", "job-2"), p.job_topic("kiosk-a", "job-3"),
                     p.group_job_topic("county-x", "job-4"), "kiosk/v1/kiosk-a/other"]
        for topic in forbidden:
            rc = kiosk.publish(topic, _event(0))
            if protocol == mqtt.MQTTv5:
                assert rc == 135, topic  # Not authorized
        assert kiosk.publish(p.events_topic("kiosk-a"), _event(1)) == 0
        first = manager.next()
        assert first.topic == p.events_topic("kiosk-a")  # nothing forbidden came before it
    finally:
        kiosk.close()


def test_terminal_reads_only_its_own_and_its_groups_jobs(mq, manager):
    kiosk = Watcher(mq, "kiosk-a", subscribe=("kiosk/v1/kiosk-b/jobs/+", "kiosk/v1/group/county-y/jobs/+",
                                              "kiosk/v1/#", p.jobs_filter("kiosk-a"), p.group_jobs_filter("county-x")))
    try:
        job = p.Job("job-9", "reboot").to_json()
        for topic in (p.job_topic("kiosk-b", "job-9"), p.group_job_topic("county-y", "job-9"),
                      p.state_topic("kiosk-b")):
            assert manager.publish(topic, job) == 0
        assert manager.publish(p.group_job_topic("county-x", "job-9"), job) == 0
        assert manager.publish(p.job_topic("kiosk-a", "job-9"), job) == 0
        seen = []  # overlapping subscriptions may deliver a message twice
        while not seen or seen[-1] != p.job_topic("kiosk-a", "job-9"):
            seen.append(kiosk.next().topic)
        assert set(seen) == {p.group_job_topic("county-x", "job-9"), p.job_topic("kiosk-a", "job-9")}
    finally:
        kiosk.close()


def test_wrong_password_and_unknown_account_are_refused(mq):
    with pytest.raises(ConnectionError):
        Watcher(mq, "kiosk-a", subscribe=(), password="not-the-password")
    with pytest.raises(ConnectionError):
        Watcher(mq, "kiosk-z", subscribe=(), password=mq.password("kiosk-a"))


def test_tls_listener_with_the_fleet_ca_and_a_client_certificate(mq):
    kiosk = Watcher(mq, "kiosk-a", subscribe=(), tls=True)
    manager = Watcher(mq, MANAGER, tls=True)
    try:
        assert kiosk.publish(p.events_topic("kiosk-a"), _event(2)) == 0
        assert manager.next().topic == p.events_topic("kiosk-a")
    finally:
        kiosk.close()
        manager.close()


CONNECT = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"  # MQTT 3.1.1, clean session, no client id


def _first_answer(mq, issued: credentials.Issued | None) -> bytes:
    """The broker's first bytes to a CONNECT over TLS, with ``issued``'s certificate or none; b"" if it hangs up."""
    tls = ssl.create_default_context(cafile=str(mq.ca_file))
    if issued is not None:
        tls.load_cert_chain(issued.cert_file, issued.key_file)
    try:
        with tls.wrap_socket(socket.create_connection(("127.0.0.1", mq.tls_port), timeout=15),
                             server_hostname="localhost") as conn:
            conn.sendall(CONNECT)  # TLS 1.3 tells of a missing certificate after the handshake
            return conn.recv(4)
    except (ssl.SSLError, ConnectionError):
        return b""


def test_tls_without_a_client_certificate_is_refused(mq):
    assert _first_answer(mq, None) == b""
    assert _first_answer(mq, mq.accounts["kiosk-a"])[:1] == b"\x20"  # a CONNACK (refused: no password)


def test_the_private_broker_runs_the_deploy_config(mq):
    deploy = [line for line in (DEPLOY / "mosquitto.conf").read_text().splitlines() if line and line[0] != "#"]
    local = (mq.dir / "mosquitto.conf").read_text().splitlines()
    own = ("password_file", "acl_file", "cafile", "certfile", "keyfile", "listener", "persistence_location",
           "log_dest", "log_type")
    assert [line for line in deploy if line.split()[0] not in own] == \
        [line for line in local if line.split()[0] not in (*own, "user", "#")]
    assert f"listener {mq.tls_port} 127.0.0.1" in local and local[-1] == f"listener {mq.port} 127.0.0.1"
    assert (mq.dir / "acl").read_text().startswith((DEPLOY / "fleet.acl").read_text())
    with pytest.raises(RuntimeError, match="no local value for pid_file"):
        config_text("pid_file /run/mosquitto.pid\n", mq.dir, 1, {})


def test_acl_file_keeps_one_block_per_terminal(tmp_path):
    acl = tmp_path / "acl"
    acl.write_text("pattern read x/%u\n")
    credentials.set_groups(acl, "kiosk-a", ("g-one", "g-two"))
    credentials.set_groups(acl, "kiosk-b", ("g-one",))
    credentials.set_groups(acl, "kiosk-a", ("g-three",))
    text = acl.read_text()
    assert text.count("user kiosk-a") == 1 and "g-two" not in text and "g-three" in text
    assert "user kiosk-b\ntopic read kiosk/v1/group/g-one/jobs/+" in text
    credentials.set_groups(acl, "kiosk-b", ())
    assert "kiosk-b" not in acl.read_text()


def test_the_credentials_command_issues_a_terminal(tmp_path, capsys):
    assert credentials.main(["ca", str(tmp_path / "ca")]) == 0
    assert credentials.main(["terminal", "mz-001", "--groups", "county-x", "--passwd-file", str(tmp_path / "passwd"),
                             "--acl-file", str(tmp_path / "acl"), "--ca", str(tmp_path / "ca"),
                             "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "passwd").read_text().startswith("mz-001:")
    assert oct((tmp_path / "out" / "mz-001.password").stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "out" / "mz-001.crt").exists() and "user mz-001" in (tmp_path / "acl").read_text()
    assert credentials.main(["terminal", "Bad_Id", "--passwd-file", str(tmp_path / "passwd"),
                             "--acl-file", str(tmp_path / "acl"), "--out", str(tmp_path / "out")]) == 2
