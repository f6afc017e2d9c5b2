"""Assemble what ``walletvoucher serve`` runs: signer, tokens, store, renderer, ASGI app.

In **demo mode** (nothing configured) everything is minted on the spot: a test chain shaped
like Apple's (Wallet will not install its passes; ``openssl`` verifies them), a random token
secret, a self-signed TLS certificate for the host, and the demo's cards in an in-memory store.
"""

from __future__ import annotations

import ipaddress
import secrets
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain, render_pkpass
from walletvoucher.errors import AppleWalletWarning
from walletvoucher.keys import load_apple_signer
from walletvoucher.model import StampCard
from walletvoucher.service._config import ServiceConfig
from walletvoucher.service._memory import MemoryPassStore
from walletvoucher.service._protocol import PassState
from walletvoucher.service._tokens import PassTokens, updatable_options
from walletvoucher.service._webservice import PassWebService

DEMO_PASS_TYPE = "pass.com.example.walletvoucher.demo"
DEMO_TEAM = "DEMOTEAM01"
_SPAN = timedelta(days=3650)


@attrs.frozen(kw_only=True)
class Served:
    """A ready service plus what the CLI tells the user (and, in demo mode, the TLS files)."""

    service: PassWebService
    public_url: str
    demo: bool
    tls_cert: Path | None = None
    tls_key: Path | None = None
    root_ca: Path | None = None
    serials: tuple[str, ...] = ()


def card_renderer(
    cards: Mapping[str, StampCard],
    *,
    signer: AppleSigner,
    options: AppleOptions,
    public_url: str,
    tokens: PassTokens,
) -> Callable[[PassState], bytes]:
    """A :data:`PassRenderer` drawing ``cards[serial]`` with its webServiceURL and derived token."""

    def render(state: PassState) -> bytes:
        opts = updatable_options(options, state.serial, web_service_url=public_url, tokens=tokens)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AppleWalletWarning)
            return render_pkpass(cards[state.serial], signer=signer, options=opts, at=state.last_modified)

    return render


def build_configured(config: ServiceConfig, *, at: datetime) -> Served:
    """The service from real signing material; registrations kept in memory until the store lands."""
    config.check()
    assert (
        config.pass_type_identifier and config.team_identifier and config.public_url and config.token_secret
    )
    signer = load_apple_signer(
        pass_type_identifier=config.pass_type_identifier,
        team_identifier=config.team_identifier,
        at=at,
        wwdr=config.wwdr,
        certificate=config.certificate,
        key=config.key,
        p12=config.p12,
        password=config.p12_password or config.key_password,
    )
    tokens = PassTokens(config.token_secret.encode("utf-8"))
    options = AppleOptions(
        pass_type_identifier=signer.pass_type_identifier, team_identifier=signer.team_identifier
    )
    cards: dict[str, StampCard] = {}
    render = card_renderer(cards, signer=signer, options=options, public_url=config.public_url, tokens=tokens)
    service = PassWebService(
        pass_type_identifier=signer.pass_type_identifier,
        store=MemoryPassStore(),
        tokens=tokens,
        render=render,
    )
    return Served(service=service, public_url=config.public_url, demo=False)


def build_demo(
    *,
    host: str,
    port: int,
    state_dir: Path,
    at: datetime,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> Served:
    """Demo mode: minted chain and TLS certificate in *state_dir*, the demo's cards in memory."""
    from walletvoucher.demo import build_story  # the demo's cards; only demo mode needs them

    chain = mint_test_chain(
        pass_type_identifier=DEMO_PASS_TYPE,
        team_identifier=DEMO_TEAM,
        at=at,
        backdate=timedelta(days=1),
        valid_for=_SPAN,
    )
    files = chain.write(state_dir / "apple")
    signer = AppleSigner(
        pass_type_identifier=DEMO_PASS_TYPE,
        team_identifier=DEMO_TEAM,
        certificate=chain.certificate,
        key=chain.key,
        wwdr=chain.wwdr,
    )
    tokens = PassTokens(random(32))
    public_url = f"https://{_url_host(host)}:{port}"
    store = MemoryPassStore()
    cards = {item.card.serial: item.card for item in build_story().items}
    for serial in cards:
        store.mark_updated(serial, at=at)
    options = AppleOptions(pass_type_identifier=DEMO_PASS_TYPE, team_identifier=DEMO_TEAM)
    render = card_renderer(cards, signer=signer, options=options, public_url=public_url, tokens=tokens)
    service = PassWebService(pass_type_identifier=DEMO_PASS_TYPE, store=store, tokens=tokens, render=render)
    cert, key = write_self_signed(state_dir / "tls", host=host, at=at)
    return Served(
        service=service,
        public_url=public_url,
        demo=True,
        tls_cert=cert,
        tls_key=key,
        root_ca=files["root"],
        serials=tuple(cards),
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def write_self_signed(directory: Path, *, host: str, at: datetime) -> tuple[Path, Path]:
    """A self-signed P-256 TLS certificate for *host* (and localhost), valid a year; (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"walletvoucher demo {host}")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - timedelta(days=1))
        .not_valid_after(at + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path
