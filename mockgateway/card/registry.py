"""Each fixture person's My Number card: issued from the TEST CA on first use, kept per gateway.

A person with a `card:` key (docs/fixtures.md) gets a card the first time it is asked for:
2048-bit keys (from the key cache), a 利用者証明用 certificate whose validity follows the fixture
(`cert_issued` / `cert_expires`), PINs and tries, and a CRL entry when `revoked`. Issuing is lazy
because key generation costs ~100 ms per key and a national-scale population has millions of
people. A card once issued keeps its serial and its tries (PIN failures count) until fixtures are
loaded again, or the person's document changes; then the next read issues a new card.

The gateway finds the holder by the certificate the reader read (serial + the exact certificate),
never by the 12-digit number: `by_certificate`.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from mockgateway.card.authority import JST, CardAuthority, CertKind
from mockgateway.card.keys import KeyCache
from mockgateway.card.model import GenericCard, MyNumberCard
from mockgateway.card.mynumber import synthetic_individual_number
from mockgateway.card.profile import PROFILES, CardState, PinId
from mockgateway.card.spec import CardSpec, parse_card_spec
from mockgateway.domain.certificate import add_months, nth_birthday_after
from mockgateway.domain.model import Person

KEY_CACHE_ENV = "MOCKGATEWAY_CARD_KEY_CACHE"
_SEX_ISO5218 = {"1": "1", "2": "2", "3": "9"}  # OQSCD007 → ISO 5218 as on the card


class NoCardError(LookupError):
    """The person has no My Number card in the fixtures (no `card:` key)."""


_shared_cache: KeyCache | None = None
_shared_lock = threading.Lock()


def shared_key_cache() -> KeyCache:
    """One key cache per process (keys are synthetic; `MOCKGATEWAY_CARD_KEY_CACHE=DIR` keeps them on disk)."""
    global _shared_cache  # noqa: PLW0603 - a process-wide memo, on purpose
    with _shared_lock:
        if _shared_cache is None:
            _shared_cache = KeyCache(os.environ.get(KEY_CACHE_ENV) or None)
        return _shared_cache


@dataclass(frozen=True, slots=True)
class CardSurface:
    """What the face-auth reader's camera / scanner takes from the card's printed face.

    照合番号B (birth date + expiry year + security code) opens the 券面事項確認 AP for the face
    image; whether the card is a 顔認証マイナンバーカード (no PIN) is modelled as known to the reader
    (how a real reader learns it is not public).
    """

    verification_number_b: str
    face_auth_card: bool


@dataclass(slots=True)
class IssuedCard:
    person_id: str
    spec: CardSpec
    state: CardState
    fingerprint: bytes  # the document it was issued from: a changed document means a new card

    @property
    def serial(self) -> int:
        return self.state.credentials.auth_serial

    @property
    def certificate_der(self) -> bytes:
        return self.state.credentials.auth_cert_der

    @property
    def valid_from(self) -> dt.date:
        return self.state.credentials.not_before.astimezone(JST).date()

    @property
    def expires(self) -> dt.date:
        return self.state.credentials.not_after.astimezone(JST).date()

    @property
    def is_mynumber(self) -> bool:
        return self.state.profile.is_mynumber

    @property
    def surface(self) -> CardSurface:
        return CardSurface(self.state.verification_number_b, self.spec.face_auth_card)

    @property
    def pin_tries(self) -> int:
        return self.state.tries[PinId.AUTH]

    def model(self) -> MyNumberCard | GenericCard:
        """A card body for one placement (security state fresh; tries shared through `state`)."""
        if not self.is_mynumber:
            return GenericCard(self.state.profile)
        return MyNumberCard(self.state)

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "serial": f"{self.serial:X}",
            "registered": self.spec.registered,
            "revoked": self.spec.revoked,
            "cert_issued": f"{self.valid_from:%Y%m%d}",
            "cert_expires": f"{self.expires:%Y%m%d}",
            "pin_tries": self.pin_tries,
            "face_auth_card": self.spec.face_auth_card,
            "profile": self.state.profile.name,
        }


def _fingerprint(person: Person) -> bytes:
    return orjson.dumps(
        [person.name, person.birthdate.isoformat(), person.sex1.value, person.address, person.extensions.get("card")],
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )


class CardRegistry:
    """Cards by person id and by certificate serial. Thread-safe; issues lazily."""

    def __init__(
        self,
        *,
        clock: Callable[[], dt.datetime],
        key_cache: KeyCache | None = None,
        seed: int = 0,
        authority: CardAuthority | None = None,
    ) -> None:
        self.clock = clock
        self.key_cache = key_cache or shared_key_cache()
        self.seed = seed
        self._authority = authority
        self._lock = threading.RLock()
        self._by_person: dict[str, IssuedCard] = {}
        self._by_serial: dict[int, IssuedCard] = {}
        self._crl: x509.CertificateRevocationList | None = None

    @property
    def authority(self) -> CardAuthority:
        with self._lock:
            if self._authority is None:  # CA keys come from the key cache: created on first use
                self._authority = CardAuthority.create(key_cache=self.key_cache, seed=self.seed, clock=self.clock)
            return self._authority

    @cached_property
    def auth_ca_certificate(self) -> x509.Certificate:
        return self.authority.auth_ca_cert

    # -- issuing -------------------------------------------------------------------------------

    def card(self, person: Person) -> IssuedCard:
        """The person's card, issued now if it was not yet (or if their document changed)."""
        raw = person.extensions.get("card")
        if raw is None:
            raise NoCardError(f"{person.id} にはマイナンバーカードがありません (fixtures の card: がない)")
        fingerprint = _fingerprint(person)
        with self._lock:
            found = self._by_person.get(person.id)
            if found is not None and found.fingerprint == fingerprint:
                return found
            if found is not None:
                self._drop(found)
            issued = self._issue(person, raw, fingerprint)
            self._by_person[person.id] = issued
            self._by_serial[issued.serial] = issued
            return issued

    def _issue(self, person: Person, raw: object, fingerprint: bytes) -> IssuedCard:
        today = self.clock().astimezone(JST).date()
        spec = parse_card_spec(raw, birthdate=person.birthdate, today=today)
        issued_on, expires_on = _validity(spec, person.birthdate, today)
        sex = _SEX_ISO5218.get(person.sex1.value, "9")
        authority = self.authority
        credentials = authority.issue_for(
            person.id,
            person.name,
            person.birthdate,
            issued_on,
            address=person.address or "",
            sex=sex,
            expires_on=expires_on,
        )
        if spec.revoked:
            authority.revoke(credentials.auth_serial, revoked_on=self.clock())
            self._crl = None
        rng = random.Random(f"mockgateway-card:{person.id}")
        state = CardState(
            individual_number=synthetic_individual_number(rng),
            name=person.name,
            address=person.address or "",
            birthdate=person.birthdate,
            sex=sex,
            credentials=credentials,
            auth_pin=spec.pin,
            sign_password=spec.sign_password,
            kenhojo_pin=spec.kenhojo_pin,
            security_code=spec.security_code,
            profile=PROFILES[spec.profile],
            tries={PinId.AUTH: spec.pin_tries},
        )
        return IssuedCard(person.id, spec, state, fingerprint)

    def _drop(self, card: IssuedCard) -> None:
        self._by_person.pop(card.person_id, None)
        self._by_serial.pop(card.serial, None)

    def clear(self) -> None:
        """Forget every card: the next read issues each anew, as its fixture says (tries, revocation).

        Called whenever fixtures are loaded (`Gateway.on_reload`): loading fixtures — including
        `POST /admin/reset` — puts every card back in the state its `card:` describes. Certificates
        of forgotten cards are no longer recognised (like a card replaced at the municipal office).
        """
        with self._lock:
            self._by_person.clear()
            self._by_serial.clear()

    def issue_all(self, people: Iterable[Person]) -> int:
        """Issue every card now (benchmarks, or to pay key generation up front)."""
        count = 0
        for person in people:
            if "card" in person.extensions:
                self.card(person)
                count += 1
        return count

    # -- lookups -------------------------------------------------------------------------------

    def issued(self, person_id: str) -> IssuedCard | None:
        with self._lock:
            return self._by_person.get(person_id)

    def all_issued(self) -> list[IssuedCard]:
        with self._lock:
            return sorted(self._by_person.values(), key=lambda c: c.person_id)

    def by_certificate(self, certificate_der: bytes) -> IssuedCard | None:
        """The card holding exactly this 利用者証明用 certificate (serial first, then the bytes)."""
        try:
            serial = x509.load_der_x509_certificate(certificate_der).serial_number
        except ValueError:
            return None
        with self._lock:
            card = self._by_serial.get(serial)
        if card is None or card.certificate_der != certificate_der:
            return None
        return card

    def is_revoked(self, serial: int) -> bool:
        """From the 利用者証明用 CA's CRL, as a relying party would check it."""
        with self._lock:
            if self._crl is None:
                self._crl = x509.load_der_x509_crl(self.authority.crl(CertKind.AUTH))
            crl = self._crl
        return crl.get_revoked_certificate_by_serial_number(serial) is not None

    def revoke(self, person_id: str) -> None:
        with self._lock:
            card = self._by_person.get(person_id)
            if card is None:
                raise NoCardError(f"{person_id} のカードはまだ発行されていません")
            self.authority.revoke(card.serial, revoked_on=self.clock())
            self._crl = None

    def issued_by_us(self, certificate: x509.Certificate) -> bool:
        """The certificate's signature verifies against our 利用者証明用 CA."""
        try:
            certificate.verify_directly_issued_by(self.auth_ca_certificate)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def ca_pem(self) -> bytes:
        return self.auth_ca_certificate.public_bytes(serialization.Encoding.PEM)


def _validity(spec: CardSpec, birthdate: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """(first valid day, last valid day) of the 利用者証明用 certificate."""
    expires = spec.cert_expires
    if spec.cert_issued is not None:
        issued = spec.cert_issued
    elif expires is not None:
        five_years_before = add_months(expires, -60) + dt.timedelta(days=1)
        issued = min(five_years_before, today - dt.timedelta(days=365))
    else:
        issued = today - dt.timedelta(days=365)
    issued = max(issued, birthdate)
    if expires is None:
        expires = nth_birthday_after(birthdate, issued, 5)
    return min(issued, expires), expires
