"""Fixtures for the pass-update service tests: a card, a signer, a store, TLS material, servers.

``store`` is the in-memory :class:`MemoryPassStore`; once the real store implements
:class:`PassUpdateStore`, this fixture is the one place to switch (or parametrise) it.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import trustme

from walletvoucher import Brand, Program, RedemptionMethod, Reward, StampCard, Validity
from walletvoucher.apple import AppleOptions, AppleSigner, TestChain, mint_test_chain, render_pkpass
from walletvoucher.errors import AppleWalletWarning
from walletvoucher.service import MemoryPassStore, PassState, PassTokens, updatable_options

from .servers import ApnsStandIn

PASS_TYPE = "pass.com.example.coffee"
TEAM = "ABCDE12345"
NOW = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
SECRET = b"test-secret-for-pass-tokens-0123456789"


@pytest.fixture(scope="session")
def chain() -> TestChain:
    return mint_test_chain(
        pass_type_identifier=PASS_TYPE,
        team_identifier=TEAM,
        at=NOW,
        backdate=timedelta(days=3650),
        valid_for=timedelta(days=3650),
    )


@pytest.fixture(scope="session")
def signer(chain: TestChain) -> AppleSigner:
    return AppleSigner(
        pass_type_identifier=PASS_TYPE,
        team_identifier=TEAM,
        certificate=chain.certificate,
        key=chain.key,
        wwdr=chain.wwdr,
    )


@pytest.fixture(scope="session")
def chain_files(chain: TestChain, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return chain.write(tmp_path_factory.mktemp("chain"))


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert = tls_ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    certfile, keyfile = folder / "server.pem", folder / "server.key"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for blob in cert.cert_chain_pems[1:]:
        blob.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    return certfile, keyfile


@pytest.fixture
def trust(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client TLS context trusting only the test CA."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
def tokens() -> PassTokens:
    return PassTokens(SECRET)


@pytest.fixture
def store() -> MemoryPassStore:
    return MemoryPassStore()


def coffee_program() -> Program:
    return Program(
        id="coffee",
        name="Coffee card",
        goal=10,
        reward=Reward(title="Free coffee", description="Any size"),
        redemption=RedemptionMethod.SELF_REDEEM,
        validity=Validity.for_days(30),
        brand=Brand(name="Kahve", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
    )


class Cards:
    """The cards the tests change, and the renderer the service is given (counts its calls)."""

    def __init__(self, signer: AppleSigner, tokens: PassTokens, base_url: str) -> None:
        self.signer, self.tokens, self.base_url = signer, tokens, base_url
        self.by_serial: dict[str, StampCard] = {}
        self.renders: list[PassState] = []

    def issue(self, serial: str, store: MemoryPassStore, *, at: datetime = NOW) -> StampCard:
        card, _ = StampCard.issue(coffee_program(), serial=serial, member_id=f"m-{serial}", at=at)
        self.by_serial[serial] = card
        store.mark_updated(serial, at=at)
        return card

    def stamp(self, serial: str, count: int, store: MemoryPassStore, *, at: datetime) -> StampCard:
        result = self.by_serial[serial].add_stamps(count, at=at, source="till")
        self.by_serial[serial] = result.card
        store.mark_updated(serial, at=at)
        return result.card

    def render(self, state: PassState) -> bytes:
        self.renders.append(state)
        base = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM)
        options = updatable_options(base, state.serial, web_service_url=self.base_url, tokens=self.tokens)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AppleWalletWarning)
            return render_pkpass(
                self.by_serial[state.serial], signer=self.signer, options=options, at=state.last_modified
            )


@pytest.fixture
def cards(signer: AppleSigner, tokens: PassTokens) -> Cards:
    return Cards(signer, tokens, "https://wallet.example.com/passkit")


@pytest.fixture
def apns_server(server_cert: tuple[Path, Path], chain_files: dict[str, Path]) -> Iterator[ApnsStandIn]:
    certfile, keyfile = server_cert
    with ApnsStandIn(certfile=certfile, keyfile=keyfile, client_ca=chain_files["root"]) as server:
        yield server
