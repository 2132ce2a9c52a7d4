"""APDU round-trip time through pcscd + vpcd + our bridge (target: p50 <= 1 ms).

Starts a private pcscd (needs root and scripts/setup-pcsc.sh), inserts a synthetic My Number
card and times SELECT JPKI AP round trips through pyscard's high-level API and the raw
SCardTransmit call, plus the bare card model for reference. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_card.py [--count 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from mockgateway.card.apdu import compute_signature, select_df
from mockgateway.card.authority import CardAuthority
from mockgateway.card.model import AID_JPKI, MyNumberCard
from mockgateway.card.pcscd import PrivatePcscd, pcscd_unavailable_reason, wait_for_card_state
from mockgateway.card.profile import synthetic_card
from mockgateway.card.signing import digest_info
from mockgateway.card.vpcd import VirtualCardSlot

SELECT = select_df(AID_JPKI)


def measure(label: str, count: int, call: Callable[[], None]) -> None:
    for _ in range(min(50, count)):  # warm-up: first calls pay for connection set-up
        call()
    samples = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(
        f"{label:<34} n={count:<6} p50={p50:7.3f} ms  p99={p99:7.3f} ms  "
        f"mean={statistics.fmean(samples):7.3f} ms  max={samples[-1]:7.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="round trips per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        authority = CardAuthority.create(key_cache=Path(tmp) / "keys")
        card = MyNumberCard(synthetic_card(authority, 0))
        card.power_on()
        measure("card model only (process)", args.count, lambda: _check(card.process(SELECT)))

        reason = pcscd_unavailable_reason(require_pyscard=True)
        if reason is not None:
            print(f"pcscd path skipped: {reason}")
            return 0
        from smartcard import scard
        from smartcard.System import readers

        with PrivatePcscd(Path(tmp) / "pcscd") as daemon:
            slot = VirtualCardSlot(daemon.port(0))
            state = synthetic_card(authority, 0)
            slot.insert(MyNumberCard(state))
            try:
                wait_for_card_state(daemon.face_auth_reader, present=True)
                reader = next(r for r in readers() if str(r) == daemon.face_auth_reader)
                connection = reader.createConnection()
                connection.connect()
                try:
                    apdu = list(SELECT)

                    def high_level() -> None:
                        _, sw1, sw2 = connection.transmit(apdu)
                        _check(bytes([sw1, sw2]))

                    measure("pcscd: pyscard connection.transmit", args.count, high_level)
                    hcard = connection.component.hcard
                    protocol = scard.SCARD_PCI_T1

                    def raw() -> None:
                        hresult, response = scard.SCardTransmit(hcard, protocol, apdu)
                        if hresult != scard.SCARD_S_SUCCESS:
                            raise RuntimeError(scard.SCardGetErrorMessage(hresult))
                        _check(bytes(response))

                    measure("pcscd: raw SCardTransmit", args.count, raw)

                    # A whole 利用者証明 signature (2048-bit RSA on the card side) for scale.
                    pin = bytes.fromhex("0020008004") + state.auth_pin.encode()
                    for command in (bytes.fromhex("00A4020C020018"), pin, bytes.fromhex("00A4020C020017")):
                        _check(bytes(connection.transmit(list(command))[1:]))
                    sign = list(compute_signature(digest_info(hashes.SHA256(), bytes(32))))

                    def signature() -> None:
                        _, sw1, sw2 = connection.transmit(sign)
                        _check(bytes([sw1, sw2]))

                    measure("pcscd: COMPUTE DIGITAL SIGNATURE", max(1, args.count // 10), signature)
                finally:
                    connection.disconnect()
                    connection.release()
                print(f"APDUs seen by the vpcd bridge: {slot.apdu_count}")
            finally:
                slot.remove()
    return 0


def _check(response: bytes) -> None:
    if response[-2:] != b"\x90\x00":
        raise RuntimeError(f"unexpected response {response.hex()}")


if __name__ == "__main__":
    sys.exit(main())
