"""Thin, bidirectional byte links to an ESC/POS printer: TCP, serial, USB.

Each has ``write(data)`` and ``read(timeout)`` (one byte, or ``b""`` when nothing
came in time), ``discard_input()`` and ``close()``; every wait has a timeout.
A link that is gone raises ``OSError`` (``ConnectionError`` when the peer closed).
"""
from __future__ import annotations

import logging
import select
import socket

log = logging.getLogger(__name__)


class TcpLink:
    """A raw TCP connection, e.g. port 9100 of a network receipt printer."""

    def __init__(self, host: str, port: int, timeout: float):
        self.timeout = timeout
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        self._sock.settimeout(self.timeout)
        self._sock.sendall(data)

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return b""
        data = self._sock.recv(1)
        if not data:
            raise ConnectionError("the printer closed the connection")
        return data

    def discard_input(self) -> None:
        while select.select([self._sock], [], [], 0)[0]:
            if not self._sock.recv(4096):
                raise ConnectionError("the printer closed the connection")

    def close(self) -> None:
        self._sock.close()


class SerialLink:
    """A serial port (RS-232 or USB-serial) through pyserial."""

    def __init__(self, device: str, baudrate: int, timeout: float):
        import serial

        self._port = serial.Serial(device, baudrate, timeout=timeout, write_timeout=timeout)

    def write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def read(self, timeout: float) -> bytes:
        self._port.timeout = timeout
        return self._port.read(1)

    def discard_input(self) -> None:
        self._port.reset_input_buffer()

    def close(self) -> None:
        self._port.close()


def find_endpoints(interface) -> tuple[object, object]:
    """The bulk OUT and bulk IN endpoints of a printer-class USB interface."""
    import usb.util

    def bulk(direction):
        return usb.util.find_descriptor(
            interface, custom_match=lambda e:
            usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
            and usb.util.endpoint_direction(e.bEndpointAddress) == direction)

    out, inp = bulk(usb.util.ENDPOINT_OUT), bulk(usb.util.ENDPOINT_IN)
    if out is None or inp is None:
        raise OSError("the USB printer has no bulk OUT/IN endpoint pair")
    return out, inp


class UsbLink:
    """A USB printer-class device through pyusb (libusb), bulk endpoints."""

    def __init__(self, vendor: int, product: int, timeout: float):
        import usb.core

        self.timeout_ms = max(1, int(timeout * 1000))
        try:
            self._dev = usb.core.find(idVendor=vendor, idProduct=product)
        except usb.core.NoBackendError as exc:
            raise OSError("no libusb backend is installed") from exc
        if self._dev is None:
            raise ConnectionError(f"no USB device {vendor:04x}:{product:04x}")
        try:
            if self._dev.is_kernel_driver_active(0):
                self._dev.detach_kernel_driver(0)
        except (NotImplementedError, usb.core.USBError):
            log.debug("cannot query/detach the kernel driver; going on")
        self._dev.set_configuration()
        self._out, self._in = find_endpoints(self._dev.get_active_configuration()[(0, 0)])

    def write(self, data: bytes) -> None:
        import usb.core

        try:
            self._out.write(data, timeout=self.timeout_ms)
        except usb.core.USBError as exc:
            raise OSError(str(exc)) from exc

    def read(self, timeout: float) -> bytes:
        import usb.core

        try:
            data = bytes(self._in.read(self._in.wMaxPacketSize, timeout=max(1, int(timeout * 1000))))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise OSError(str(exc)) from exc
        return data[-1:]  # the latest status byte; older ones are stale

    def discard_input(self) -> None:
        while self.read(0.01):
            pass

    def close(self) -> None:
        import usb.util

        usb.util.dispose_resources(self._dev)
