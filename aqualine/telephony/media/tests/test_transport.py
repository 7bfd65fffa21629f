"""The shared socket's batched receive and send (recvmmsg/sendmmsg) and the address lookup."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest

from aqualine.telephony.media.transport import (
    AUDIO_PACKET,
    AddressMap,
    RxBatch,
    SharedSocket,
    TxBuffer,
    address_key,
    disconnect_udp,
    key_address,
    shared_socket_supported,
)

pytestmark = pytest.mark.skipif(not shared_socket_supported(), reason="needs recvmmsg")


@pytest.fixture
def shared() -> Iterator[SharedSocket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    endpoint = SharedSocket(sock)
    yield endpoint
    endpoint.close()


@pytest.fixture
def peers() -> Iterator[list[socket.socket]]:
    made = []
    for _ in range(3):
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        made.append(peer)
    yield made
    for peer in made:
        peer.close()


def receive_all(shared: SharedSocket, batch: RxBatch, count: int) -> None:
    deadline = time.monotonic() + 5
    while batch.count < count and time.monotonic() < deadline:
        shared.receive(batch)
        time.sleep(0.001)


def test_one_call_reads_every_datagram_with_its_source(
    shared: SharedSocket, peers: list[socket.socket]
) -> None:
    for index, peer in enumerate(peers):
        for number in range(5):
            peer.sendto(bytes([index, number]) * (10 + number), shared.address)
    batch = RxBatch(64)
    receive_all(shared, batch, 15)
    assert batch.count == 15
    sources = [key_address(int(key)) for key in batch.key[:15]]
    got = {(s, bytes(batch.data[r, : batch.length[r]])) for r, s in enumerate(sources)}
    want = {
        (peer.getsockname(), bytes([i, n]) * (10 + n))
        for i, peer in enumerate(peers)
        for n in range(5)
    }
    assert got == want
    assert shared.receive(batch) == 0  # nothing more (and no exception)


def test_a_full_batch_leaves_the_rest_for_later(
    shared: SharedSocket, peers: list[socket.socket]
) -> None:
    for number in range(10):
        peers[0].sendto(bytes([number]), shared.address)
    batch = RxBatch(4)
    receive_all(shared, batch, 4)
    assert batch.count == 4 and batch.full
    batch.clear()
    receive_all(shared, batch, 4)
    assert batch.data[:4, 0].tolist() == [4, 5, 6, 7]


def test_one_call_sends_each_slots_packet_to_its_address(
    shared: SharedSocket, peers: list[socket.socket]
) -> None:
    tx = TxBuffer(8)
    for slot, peer in zip((1, 4, 6), peers, strict=True):
        tx.set_address(slot, *peer.getsockname())
        tx.seq[slot] = 1000 + slot
        tx.payload[slot] = slot
    assert shared.send(tx, np.array([1, 4, 6])) == 3
    for slot, peer in zip((1, 4, 6), peers, strict=True):
        data = peer.recv(2048)
        assert len(data) == AUDIO_PACKET
        assert data[0] == 0x80 and int.from_bytes(data[2:4], "big") == 1000 + slot
        assert set(data[12:]) == {slot}
    tx.grow(16)  # moved buffers: the next send must use the new ones
    tx.set_address(12, *peers[0].getsockname())
    tx.payload[12] = 99
    assert shared.send(tx, np.array([12])) == 1
    assert set(peers[0].recv(2048)[12:]) == {99}


def test_addresses_are_found_in_one_lookup() -> None:
    addresses = AddressMap()
    addresses.set(address_key("10.0.0.1", 4000), 3)
    addresses.set(address_key("10.0.0.1", 4002), 5)
    keys = np.array([address_key("10.0.0.1", 4002), address_key("10.0.0.2", 4000), 0])
    assert addresses.lookup(keys).tolist() == [5, -1, -1]
    addresses.remove(address_key("10.0.0.1", 4002), slot=4)  # someone else's: kept
    addresses.remove(address_key("10.0.0.1", 4002), slot=5)
    assert addresses.lookup(keys).tolist() == [-1, -1, -1]
    assert key_address(address_key("192.0.2.7", 65535)) == ("192.0.2.7", 65535)


def test_a_connected_socket_can_be_disconnected_and_keeps_its_port(
    peers: list[socket.socket],
) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.connect(peers[0].getsockname())
        disconnect_udp(sock)
        assert sock.getsockname()[1] == port
        sock.sendto(b"x", peers[1].getsockname())  # would fail on a connected socket
        assert peers[1].recv(10) == b"x"
