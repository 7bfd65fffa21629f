"""Packet I/O of the media clock: receive and send buffers in numpy, and a shared UDP socket
driven by ``recvmmsg``/``sendmmsg`` through :mod:`ctypes`.

Kernel work per packet dominates a media switch (``media-notes.md``). One shared socket, read
and written with ``recvmmsg``/``sendmmsg`` straight into numpy arrays, carried 400 bridged,
recorded calls in ~21-26 % of a core in ``bench/media_clock.py``, against ~30-40 % with one
socket per leg (two system calls and a Python loop iteration per leg and tick). The clock
therefore supports two kinds of leg:

* **shared** legs all use one local port (:class:`SharedSocket`); a packet's leg is found from
  its source address in one vectorised lookup (:class:`AddressMap`). The remote must send from
  the address it signalled, or from its signalled host (a port changed by NAT is learned from
  the first packet, while no other leg waits for that host);
* **dedicated** legs own a socket each (the usual one-port-per-call SDP), read with
  ``recv_into`` when epoll says they are ready; they can also learn a remote behind NAT that
  signalled a private address.

:class:`RxBatch` is where every tick's received datagrams land, whatever the socket: one row per
datagram, with its length and (once known) its leg slot. :class:`TxBuffer` holds one outgoing
RTP packet per leg slot, with strided views onto the header fields so that sequence numbers,
timestamps and payloads of all legs are written in a few numpy steps.

``recvmmsg``/``sendmmsg`` are Linux system calls; :func:`shared_socket_supported` says whether
they are usable here (64-bit Linux with glibc or musl). Only IPv4 is supported on a shared
socket; IPv6 legs use dedicated sockets.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import ipaddress
import socket
import sys
from typing import Final

import numpy as np
import numpy.typing as npt

ROW: Final = 1536
"""Bytes per received datagram; longer ones are truncated (and then counted malformed)."""
RTP_HEADER: Final = 12
AUDIO_PAYLOAD: Final = 160
AUDIO_PACKET: Final = RTP_HEADER + AUDIO_PAYLOAD
SHARED_RCVBUF: Final = 8 * 1024 * 1024
SHARED_SNDBUF: Final = 4 * 1024 * 1024
_SO_RCVBUFFORCE: Final = 33
_SO_SNDBUFFORCE: Final = 32
_MSG_DONTWAIT: Final = 0x40
_EAGAIN: Final = 11
_EINTR: Final = 4

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

# struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } on LP64 Linux.
MMSGHDR: Final = np.dtype(
    {
        "names": ["name", "namelen", "iov", "iovlen", "control", "controllen", "flags", "len"],
        "formats": ["<u8", "<u4", "<u8", "<u8", "<u8", "<u8", "<i4", "<u4"],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 56],
        "itemsize": 64,
    }
)
IOVEC: Final = np.dtype({"names": ["base", "len"], "formats": ["<u8", "<u8"], "itemsize": 16})
SOCKADDR_IN: Final = 16


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.c_void_p),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class _MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", _MsgHdr), ("len", ctypes.c_uint)]


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or ctypes.sizeof(_MMsgHdr) != MMSGHDR.itemsize:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        recvmmsg = libc.recvmmsg
        sendmmsg = libc.sendmmsg
        connect = libc.connect
    except (OSError, AttributeError):
        return None
    recvmmsg.argtypes = [
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_void_p,
    ]
    recvmmsg.restype = ctypes.c_int
    sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    sendmmsg.restype = ctypes.c_int
    connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
    connect.restype = ctypes.c_int
    return libc


_LIBC: Final = _load_libc()


def shared_socket_supported() -> bool:
    return _LIBC is not None


def address_key(host: str, port: int) -> int:
    """The lookup key of an IPv4 address: the 32-bit address above the 16-bit port."""
    return int(ipaddress.IPv4Address(host)) << 16 | port


def key_address(key: int) -> tuple[str, int]:
    key = int(key)
    return str(ipaddress.IPv4Address(key >> 16)), key & 0xFFFF


def sockaddr_in(host: str, port: int) -> bytes:
    return (
        socket.AF_INET.to_bytes(2, "little")
        + port.to_bytes(2, "big")
        + ipaddress.IPv4Address(host).packed
        + bytes(8)
    )


def disconnect_udp(sock: socket.socket) -> None:
    """Dissolve a UDP socket's association (connect to AF_UNSPEC), keeping its local port.

    Linux also unbinds a socket whose port the kernel chose (bound to port 0: no
    ``SOCK_BINDPORT_LOCK``), so such a socket is bound again to the same address at once.
    """
    if _LIBC is None:
        raise OSError("disconnecting a UDP socket needs libc")
    name = sock.getsockname()
    unspec = (ctypes.c_ubyte * 16)()
    if _LIBC.connect(sock.fileno(), ctypes.addressof(unspec), 16) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"disconnect failed: {error}")
    if sock.getsockname()[1] != name[1]:
        sock.bind(name)


class RxBatch:
    """Received datagrams of one tick: ``data[i, :length[i]]`` came for leg slot ``slot[i]``."""

    def __init__(self, rows: int = 1024) -> None:
        self.count = 0
        self._allocate(rows)

    def _allocate(self, rows: int) -> None:
        self.data: Bytes = np.zeros((rows, ROW), dtype=np.uint8)
        self.length: Ints = np.zeros(rows, dtype=np.int64)
        self.slot: Ints = np.full(rows, -1, dtype=np.int64)
        self.key: Ints = np.zeros(rows, dtype=np.int64)
        """Source address key (shared socket only; 0 for dedicated sockets)."""
        self.generation: Ints = np.zeros(rows, dtype=np.int64)
        """Of the slot when a dedicated socket's datagram was read (see the engine)."""
        self.views = [memoryview(self.data[row]) for row in range(rows)]

    @property
    def rows(self) -> int:
        return int(self.data.shape[0])

    @property
    def full(self) -> bool:
        return self.count >= self.rows

    def clear(self) -> None:
        self.count = 0

    def grow(self, rows: int) -> None:
        """More rows; the datagrams already read are kept."""
        if rows <= self.rows:
            return
        count = self.count
        old: tuple[np.ndarray, ...] = (self.data, self.length, self.slot, self.key, self.generation)
        self._allocate(rows)
        fresh: tuple[np.ndarray, ...] = (
            self.data,
            self.length,
            self.slot,
            self.key,
            self.generation,
        )
        for new, previous in zip(fresh, old, strict=True):
            new[:count] = previous[:count]


class TxBuffer:
    """One outgoing 20 ms G.711 packet per leg slot, with numpy views onto its header."""

    def __init__(self, capacity: int) -> None:
        self.capacity = 0
        self.version = 0
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        old = self.capacity
        data = np.zeros((capacity, AUDIO_PACKET), dtype=np.uint8)
        addr = np.zeros((capacity, SOCKADDR_IN), dtype=np.uint8)
        if old:
            data[:old] = self.data
            addr[:old] = self.addr
        data[:, 0] = 0x80
        self.data: Bytes = data
        self.addr: Bytes = addr
        self.marker_pt = np.ndarray((capacity,), np.uint8, data, 1, (AUDIO_PACKET,))
        self.seq = np.ndarray((capacity,), ">u2", data, 2, (AUDIO_PACKET,))
        self.timestamp = np.ndarray((capacity,), ">u4", data, 4, (AUDIO_PACKET,))
        self.ssrc = np.ndarray((capacity,), ">u4", data, 8, (AUDIO_PACKET,))
        self.payload: Bytes = data[:, RTP_HEADER:]
        self.views = [memoryview(data[row]) for row in range(capacity)]
        self.iov = np.zeros(capacity, dtype=IOVEC)
        self.iov["base"] = data.ctypes.data + np.arange(capacity, dtype=np.uint64) * AUDIO_PACKET
        self.iov["len"] = AUDIO_PACKET
        self.templates = np.zeros(capacity, dtype=MMSGHDR)
        self.templates["name"] = addr.ctypes.data + np.arange(capacity, dtype=np.uint64) * 16
        self.templates["namelen"] = SOCKADDR_IN
        self.templates["iov"] = self.iov.ctypes.data + np.arange(capacity, dtype=np.uint64) * 16
        self.templates["iovlen"] = 1
        self.capacity = capacity
        self.version += 1

    def grow(self, capacity: int) -> None:
        if capacity > self.capacity:
            self._allocate(capacity)

    def set_address(self, slot: int, host: str, port: int) -> None:
        self.addr[slot] = np.frombuffer(sockaddr_in(host, port), dtype=np.uint8)


class AddressMap:
    """Source address key → leg slot, looked up for a whole batch at once."""

    def __init__(self) -> None:
        self._slots: dict[int, int] = {}
        self._keys: Ints = np.zeros(0, dtype=np.int64)
        self._values: Ints = np.zeros(0, dtype=np.int64)
        self._dirty = False

    def set(self, key: int, slot: int) -> None:
        self._slots[key] = slot
        self._dirty = True

    def remove(self, key: int, slot: int | None = None) -> None:
        if key in self._slots and (slot is None or self._slots[key] == slot):
            del self._slots[key]
            self._dirty = True

    def get(self, key: int) -> int | None:
        return self._slots.get(key)

    def __len__(self) -> int:
        return len(self._slots)

    def lookup(self, keys: Ints) -> Ints:
        """The slot of every key, -1 where unknown."""
        if self._dirty:
            order = sorted(self._slots)
            self._keys = np.array(order, dtype=np.int64)
            self._values = np.array([self._slots[k] for k in order], dtype=np.int64)
            self._dirty = False
        if not len(self._keys):
            return np.full(len(keys), -1, dtype=np.int64)
        position = np.searchsorted(self._keys, keys)
        position[position >= len(self._keys)] = 0
        found: Ints = np.where(self._keys[position] == keys, self._values[position], -1)
        return found


class SharedSocket:
    """One non-blocking UDP/IPv4 socket shared by many legs (see the module docstring)."""

    def __init__(self, sock: socket.socket) -> None:
        if _LIBC is None:
            raise OSError("a shared media socket needs recvmmsg/sendmmsg (64-bit Linux)")
        if sock.family != socket.AF_INET:
            raise ValueError("a shared media socket is IPv4")
        self.sock = sock
        self.fd = sock.fileno()
        sock.setblocking(False)
        _set_buffer(sock, socket.SO_RCVBUF, _SO_RCVBUFFORCE, SHARED_RCVBUF)
        _set_buffer(sock, socket.SO_SNDBUF, _SO_SNDBUFFORCE, SHARED_SNDBUF)
        self._rx_data: Bytes | None = None
        self._rx = np.zeros(0, dtype=MMSGHDR)
        self._names: Bytes = np.zeros((0, SOCKADDR_IN), dtype=np.uint8)
        self._iov = np.zeros(0, dtype=IOVEC)
        self.send_errors = 0
        self.receive_errors = 0

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def _point_at(self, batch: RxBatch) -> None:
        rows = batch.rows
        self._names = np.zeros((rows, SOCKADDR_IN), dtype=np.uint8)
        self._iov = np.zeros(rows, dtype=IOVEC)
        self._iov["base"] = batch.data.ctypes.data + np.arange(rows, dtype=np.uint64) * ROW
        self._iov["len"] = ROW
        self._rx = np.zeros(rows, dtype=MMSGHDR)
        self._rx["name"] = self._names.ctypes.data + np.arange(rows, dtype=np.uint64) * 16
        self._rx["iov"] = self._iov.ctypes.data + np.arange(rows, dtype=np.uint64) * 16
        self._rx["iovlen"] = 1
        self._rx_data = batch.data

    def receive(self, batch: RxBatch) -> int:
        """Read every queued datagram (as far as the batch has room); return how many."""
        assert _LIBC is not None
        if self._rx_data is not batch.data:  # first use, or the batch grew
            self._point_at(batch)
        total = 0
        rx = self._rx
        while batch.count < batch.rows:
            start = batch.count
            room = batch.rows - start
            rx["namelen"][start:] = SOCKADDR_IN
            got = _LIBC.recvmmsg(
                self.fd, rx.ctypes.data + start * MMSGHDR.itemsize, room, _MSG_DONTWAIT, None
            )
            if got <= 0:
                if got < 0 and ctypes.get_errno() not in (_EAGAIN, _EINTR):
                    self.receive_errors += 1
                break
            end = start + got
            names = self._names[start:end]
            port = names[:, 2].astype(np.int64) << 8 | names[:, 3]
            host = (
                names[:, 4].astype(np.int64) << 24
                | names[:, 5].astype(np.int64) << 16
                | names[:, 6].astype(np.int64) << 8
                | names[:, 7]
            )
            batch.key[start:end] = host << 16 | port
            batch.length[start:end] = rx["len"][start:end]
            batch.slot[start:end] = -1
            batch.count = end
            total += got
            if got < room:
                break
        return total

    def send(self, tx: TxBuffer, slots: Ints) -> int:
        """Send the audio packet of each slot to its address; return how many went out."""
        assert _LIBC is not None
        count = len(slots)
        if count == 0:
            return 0
        batch = tx.templates[slots]
        base = batch.ctypes.data
        sent = 0
        offset = 0
        while offset < count:
            done = _LIBC.sendmmsg(
                self.fd, base + offset * MMSGHDR.itemsize, count - offset, _MSG_DONTWAIT
            )
            if done <= 0:
                self.send_errors += 1
                offset += 1  # skip the message that failed; the others still go
                continue
            sent += done
            offset += done
        return sent

    def send_one(self, data: bytes, address: tuple[str, int]) -> bool:
        try:
            self.sock.sendto(data, address)
        except OSError:
            self.send_errors += 1
            return False
        return True

    def close(self) -> None:
        self.sock.close()


def _set_buffer(sock: socket.socket, option: int, force: int, size: int) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)  # needs CAP_NET_ADMIN
    except OSError:
        with contextlib.suppress(OSError):  # capped at rmem_max/wmem_max
            sock.setsockopt(socket.SOL_SOCKET, option, size)
