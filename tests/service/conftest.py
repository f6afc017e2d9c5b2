"""Fixtures for the pass-update service tests: a card, a signer, a store, TLS material, servers.

``store`` is the real wallet store behind :class:`StorePassUpdates`: SQLite in a temporary
directory by default; a test that asks for the ``engine`` fixture runs on SQLite and on the
PostgreSQL server the suite starts. ``wallets`` opens one wallet per thread (uvicorn runs the
service in a thread pool); ``wallet`` is the test thread's own.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import trustme

from walletvoucher import Brand, Program, RedemptionMethod, Reward, StampCard, Validity
from walletvoucher.apple import AppleOptions, AppleSigner, TestChain, mint_test_chain
from walletvoucher.service import PassState, PassTokens, StorePassUpdates, WalletPerThread, store_renderer
from walletvoucher.store import Wallet

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


@pytest.fixture(scope="session")
def tls_ca_file(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test CA's certificate as a PEM file (for a subprocess that must trust the loopback servers)."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def trust(tls_ca: trustme.CA) -> ssl.SSLContext:
    """A client TLS context trusting only the test CA."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(context)
    return context


@pytest.fixture
def tokens() -> PassTokens:
    return PassTokens(SECRET)


_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    """Parametrise a test over both engines by asking for this fixture."""
    return str(request.param)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: PostgreSQL when the test runs with ``engine == "postgres"``, else SQLite."""
    engine = request.getfixturevalue("engine") if "engine" in request.fixturenames else "sqlite"
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'wallet.db'}"
    import psycopg

    cluster = request.getfixturevalue("postgres")
    name = f"service_{next(_databases)}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return str(cluster.url(name))


@pytest.fixture
def wallets(db_url: str) -> Iterator[WalletPerThread]:
    opener = WalletPerThread(db_url, programs=[coffee_program()])
    try:
        yield opener
    finally:
        opener.close()


@pytest.fixture
def wallet(wallets: WalletPerThread) -> Wallet:
    return wallets()


@pytest.fixture
def store(wallets: WalletPerThread) -> StorePassUpdates:
    return StorePassUpdates(wallets)


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
    """Cards changed through the wallet store, and the store renderer the service is given (counted)."""

    def __init__(
        self, wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens, base_url: str
    ) -> None:
        self.wallets, self.signer, self.tokens, self.base_url = wallets, signer, tokens, base_url
        self.renders: list[PassState] = []
        base = AppleOptions(pass_type_identifier=PASS_TYPE, team_identifier=TEAM,
                            redeem_link="https://wallet.example.com/redeem/{serial}")
        self._render = store_renderer(wallets, signer=signer, options=base, web_service_url=base_url,
                                      tokens=tokens)

    def issue(self, serial: str, *, at: datetime = NOW) -> StampCard:
        return self.wallets().issue_card("coffee", serial=serial, member_id=f"m-{serial}", at=at)

    def stamp(self, serial: str, count: int, *, at: datetime) -> StampCard:
        return self.wallets().stamp(serial, count, at=at, source="till").card

    def render(self, state: PassState) -> bytes:
        self.renders.append(state)
        return self._render(state)


@pytest.fixture
def cards(wallets: WalletPerThread, signer: AppleSigner, tokens: PassTokens) -> Cards:
    return Cards(wallets, signer, tokens, "https://wallet.example.com/passkit")


@pytest.fixture
def apns_server(server_cert: tuple[Path, Path], chain_files: dict[str, Path]) -> Iterator[ApnsStandIn]:
    certfile, keyfile = server_cert
    with ApnsStandIn(certfile=certfile, keyfile=keyfile, client_ca=chain_files["root"]) as server:
        yield server
