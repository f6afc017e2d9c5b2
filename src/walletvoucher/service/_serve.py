"""Assemble what ``walletvoucher serve`` runs: signer, tokens, wallet store, renderer, ASGI app.

Registrations and update marks live in the wallet store (``--db``), and passes are rendered from
the cards stored there. In **demo mode** (nothing configured) everything is minted on the spot: a
test chain shaped like Apple's (Wallet will not install its passes; ``openssl`` verifies them), a
random token secret, a self-signed TLS certificate for the host, and the demo's cards issued into
a SQLite store in the state directory (or the ``--db`` given).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from walletvoucher.apple import AppleOptions, AppleSigner, mint_test_chain
from walletvoucher.codes import RedeemLinkKey, ScanKey
from walletvoucher.errors import ServiceConfigError, UnknownCard
from walletvoucher.keys import load_apple_signer
from walletvoucher.model import Program, StampCard
from walletvoucher.service._config import ServiceConfig
from walletvoucher.service._join import GoogleLink, JoinSettings, google_links
from walletvoucher.service._stored import StorePassUpdates, WalletPerThread, store_renderer
from walletvoucher.service._tokens import PassTokens
from walletvoucher.service._webhooks import Webhooks
from walletvoucher.service._webservice import PassWebService
from walletvoucher.store import Wallet

if TYPE_CHECKING:
    from walletvoucher.google import GoogleOptions
    from walletvoucher.service.apns import ApnsTokenKey

DEMO_PASS_TYPE = "pass.com.example.walletvoucher.demo"
DEMO_TEAM = "DEMOTEAM01"
_SPAN = timedelta(days=3650)


@attrs.frozen(kw_only=True)
class Served:
    """A ready service plus what the CLI tells the user (and, in demo mode, the TLS files).

    ``wallets`` opens the store once per thread; close it when the server stops.
    """

    service: PassWebService
    public_url: str
    demo: bool
    wallets: WalletPerThread
    signer: AppleSigner
    tls_cert: Path | None = None
    tls_key: Path | None = None
    apns_key: ApnsTokenKey | None = None  # the configuration's [apns] .p8, for --worker's pushes
    root_ca: Path | None = None
    serials: tuple[str, ...] = ()
    programs: tuple[Program, ...] = ()
    page_secret: bytes = attrs.field(default=b"", repr=False)
    """Keys the customer pages' cookies, CSRF tokens and card serials (derived from the token secret)."""
    link_key: RedeemLinkKey | None = attrs.field(default=None, repr=False)
    """Signs the Self-Redeem links that point at this server's ``/redeem/...`` pages."""
    google: GoogleLink | None = None
    join_settings: Mapping[str, JoinSettings] = attrs.field(factory=dict)
    scan_keys: tuple[ScanKey, ...] = attrs.field(default=(), repr=False)
    webhooks: Webhooks | None = attrs.field(default=None, repr=False)
    """Verify the Staff-Scan tokens and rotating codes the staff page reads."""
    google_callbacks: bool = False
    """Whether ``/google/callbacks`` answers (``google_callback_keys`` set): classes then point there."""


def derive_secret(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for *purpose* derived from the server secret (HMAC-SHA256), so one secret serves all."""
    return hmac.new(secret, b"walletvoucher/" + purpose.encode() + b"/1", hashlib.sha256).digest()


def _service(
    wallets: WalletPerThread,
    *,
    signer: AppleSigner,
    tokens: PassTokens,
    public_url: str,
    options: AppleOptions | None = None,
) -> PassWebService:
    options = options or AppleOptions(
        pass_type_identifier=signer.pass_type_identifier, team_identifier=signer.team_identifier
    )
    render = store_renderer(
        wallets, signer=signer, options=options, web_service_url=public_url, tokens=tokens
    )
    return PassWebService(
        pass_type_identifier=signer.pass_type_identifier,
        store=StorePassUpdates(wallets),
        tokens=tokens,
        render=render,
    )


def build_configured(
    config: ServiceConfig, *, at: datetime, db: str | None, programs: Sequence[Program] = (),
    google: GoogleLink | None = None, join_settings: Mapping[str, JoinSettings] | None = None,
    scan_keys: Sequence[ScanKey] = (),
    webhooks: Webhooks | None = None,
) -> Served:
    """The service from real signing material, over the wallet store at *db* (cards of *programs*).

    *google* makes the join page's save links; *join_settings* says what each program's join page asks.
    *webhooks*: every transition and device activity also queues their signed deliveries.
    """
    config.check()
    assert config.public_url and config.token_secret
    if db is None:
        raise ServiceConfigError(
            "is required outside demo mode",
            field="--db",
            fix="give the wallet store the cards live in, e.g. --db sqlite:///wallet.db",
        )
    signer = load_signer(config, at=at)
    apns_key = config.apns_token_key()
    tokens = PassTokens(config.token_secret.encode("utf-8"))
    hooked = {} if webhooks is None else {"effects": [webhooks.effect],
                                          "activity_effects": [webhooks.activity_effect]}
    wallets = WalletPerThread(db, programs=programs, **hooked)
    wallets()  # open (and migrate) now, so a bad URL fails before the server starts
    page_secret = derive_secret(config.token_secret.encode("utf-8"), "pages")
    link_key = link_key_from(config)
    options = configured_options(config, signer, link_key=link_key)
    service = _service(wallets, signer=signer, tokens=tokens, public_url=config.public_url, options=options)
    keys = tuple(dict.fromkeys([*([options.scan_key] if options.scan_key else []), *scan_keys]))
    return Served(service=service, public_url=config.public_url, demo=False, wallets=wallets, signer=signer,
                  apns_key=apns_key, programs=tuple(programs), page_secret=page_secret, link_key=link_key,
                  google=google, join_settings=dict(join_settings or {}), scan_keys=keys,
                  webhooks=webhooks, google_callbacks=config.google_callback_keys is not None)


def configured_options(
    config: ServiceConfig, signer: AppleSigner, *, link_key: RedeemLinkKey | None = None
) -> AppleOptions:
    """The passes' options: the redeem link and the scan key, when set, so every voucher renders.

    With *link_key*, Self-Redeem vouchers link to this server's own page (``{public_url}/redeem/{serial}``
    unless ``redeem_link`` says otherwise) and a link that points at this server carries its signature.
    """
    scan_key = None
    if config.scan_key_secret is not None:
        if not config.scan_key_id:
            raise ServiceConfigError("is required with a scan key secret", field="scan_key_id",
                                     fix="name the key, e.g. scan_key_id = \"till-2026\"")
        scan_key = ScanKey(key_id=config.scan_key_id, secret=config.scan_key_secret.encode("utf-8"))
    redeem_link = config.redeem_link
    if link_key is not None and redeem_link is None and config.public_url:
        redeem_link = config.public_url.rstrip("/") + "/redeem/{serial}"
    ours = link_key is not None and redeem_link is not None and bool(config.public_url) and \
        redeem_link.startswith(str(config.public_url).rstrip("/") + "/")
    return AppleOptions(pass_type_identifier=signer.pass_type_identifier,
                        team_identifier=signer.team_identifier, redeem_link=redeem_link,
                        scan_key=scan_key, redeem_link_key=link_key if ours else None)


def served_google_options(
    options: GoogleOptions, *, public_url: str, link_key: RedeemLinkKey, callbacks: bool = False
) -> GoogleOptions:
    """*options* with Self-Redeem links to this server's pages: ``{public_url}/redeem/{serial}`` unless the
    program names another template, and this server's signature on every link that points at it.
    With *callbacks*, classes carry ``callbackOptions.url`` ``{public_url}/google/callbacks`` (unless the
    options name another)."""
    base = public_url.rstrip("/")
    template = options.redeem_link_template or base + "/redeem/{serial}"
    ours = template.startswith(base + "/")
    callback = options.callback_url or (base + "/google/callbacks" if callbacks else None)
    return attrs.evolve(options, redeem_link_template=template, redeem_link_key=link_key if ours else None,
                        callback_url=callback)


def link_key_from(config: ServiceConfig) -> RedeemLinkKey | None:
    """The redeem-link key derived from the token secret (None without one)."""
    if not config.token_secret:
        return None
    return RedeemLinkKey(derive_secret(config.token_secret.encode("utf-8"), "redeem-link"))


def load_signer(config: ServiceConfig, *, at: datetime) -> AppleSigner:
    """The Pass Type ID signer from the configuration (also the APNs client certificate)."""
    if not config.pass_type_identifier or not config.team_identifier:
        raise ServiceConfigError(
            "is required to sign passes and push",
            field="pass_type_identifier" if not config.pass_type_identifier else "team_identifier",
            fix="set it in the [service] table or WALLETVOUCHER_PASS_TYPE_IDENTIFIER / _TEAM_IDENTIFIER",
        )
    return load_apple_signer(
        pass_type_identifier=config.pass_type_identifier,
        team_identifier=config.team_identifier,
        at=at,
        wwdr=config.wwdr,
        certificate=config.certificate,
        key=config.key,
        p12=config.p12,
        password=config.p12_password or config.key_password,
        password_from=f"WALLETVOUCHER_{'P12' if config.p12 is not None else 'KEY'}_PASSWORD",
    )


def demo_cards() -> dict[str, StampCard]:
    """The demo story's cards, each as it ends the story."""
    from walletvoucher.demo import build_story  # the demo's cards; only demo mode needs them

    return {item.card.serial: item.card for item in build_story().items}


def seed_demo(wallet: Wallet, cards: Mapping[str, StampCard], *, at: datetime) -> None:
    """Issue the demo's cards into *wallet* (those not stored yet), each with its stamps short of the goal."""
    for serial, card in cards.items():
        try:
            wallet.card_info(serial)
            continue
        except UnknownCard:
            pass
        wallet.issue_card(card.program, serial=serial, member_id=card.member_id, at=at)
        count = min(card.stamps, card.program.goal - 1)
        if count:
            wallet.stamp(serial, count, at=at, source="demo")


def build_demo(
    *,
    host: str,
    port: int,
    state_dir: Path,
    at: datetime,
    db: str | None = None,
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> Served:
    """Demo mode: minted chain and TLS certificate in *state_dir*, the demo's cards in a store there."""
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
    cards = demo_cards()
    programs = list({(c.program.id, c.program.version): c.program for c in cards.values()}.values())
    wallets = WalletPerThread(db or f"sqlite:///{state_dir / 'demo-wallet.db'}", programs=programs)
    seed_demo(wallets(), cards, at=at)
    page_secret = random(32)
    link_key = RedeemLinkKey(derive_secret(page_secret, "redeem-link"))
    options = AppleOptions(  # so the demo's Self-Redeem and Staff-Scan vouchers render as passes too
        pass_type_identifier=DEMO_PASS_TYPE,
        team_identifier=DEMO_TEAM,
        redeem_link=f"{public_url}/redeem/{{serial}}",
        redeem_link_key=link_key,
        scan_key=ScanKey(key_id="demo", secret=random(32)),
    )
    service = _service(wallets, signer=signer, tokens=tokens, public_url=public_url, options=options)
    cert, key = write_self_signed(state_dir / "tls", host=host, at=at)
    return Served(
        service=service,
        public_url=public_url,
        demo=True,
        wallets=wallets,
        signer=signer,
        tls_cert=cert,
        tls_key=key,
        root_ca=files["root"],
        serials=tuple(cards),
        programs=tuple(programs),
        page_secret=page_secret,
        link_key=link_key,
        google=demo_google(state_dir, public_url, link_key=link_key, scan_key=options.scan_key),
        scan_keys=(options.scan_key,) if options.scan_key else (),
    )


def demo_google(state_dir: Path, public_url: str, *, link_key: RedeemLinkKey,
                scan_key: ScanKey | None) -> GoogleLink:
    """Save links signed by a throwaway service-account key written to *state_dir* (verify them with it)."""
    from walletvoucher.demo._google import DEMO_OPTIONS, KEY_PATH, _write_key

    credentials = _write_key(state_dir / KEY_PATH)
    link = f"{public_url}/redeem/{{serial}}"
    options = attrs.evolve(DEMO_OPTIONS, origins=(public_url,), redeem_link_template=link,
                            redeem_link_key=link_key, scan_key=scan_key)
    return google_links(credentials, lambda program: options)


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
