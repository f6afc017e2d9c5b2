"""Configuration of ``walletvoucher serve``: a TOML file and environment variables (which win).

::

    # walletvoucher.toml
    [service]
    pass_type_identifier = "pass.com.example.coffee"
    team_identifier = "ABCDE12345"
    public_url = "https://wallet.example.com/passkit"    # the passes' webServiceURL
    certificate = "certs/pass.pem"                       # or p12 = "certs/Certificates.p12"
    key = "certs/pass.key"
    wwdr = "certs/AppleWWDRCAG4.cer"
    redeem_link = "https://wallet.example.com/redeem/{serial}"   # Self-Redeem vouchers' link
    scan_key_id = "till-2026"                            # Staff-Scan vouchers: the scanners' key id
    google_callback_keys = "google-root-keys.json"       # Google's root keys: answer /google/callbacks
    # token_secret and scan_key_secret: only from the environment (WALLETVOUCHER_TOKEN_SECRET,
    # WALLETVOUCHER_SCAN_KEY_SECRET), never in a file

    [apns]                                               # optional: APNs provider-token auth (.p8)
    key_file = "certs/AuthKey_ABC123DEFG.p8"             # or WALLETVOUCHER_APNS_KEY_FILE
    key_id = "ABC123DEFG"                                # or WALLETVOUCHER_APNS_KEY_ID
    team_id = "ABCDE12345"                               # default: the [service] team_identifier

Every key can also come from ``WALLETVOUCHER_<KEY>`` (upper case), e.g.
``WALLETVOUCHER_PUBLIC_URL``; ``WALLETVOUCHER_KEY_PASSWORD`` / ``WALLETVOUCHER_P12_PASSWORD``
unlock the key. With no configuration at all the server runs in demo mode.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from walletvoucher.errors import ServiceConfigError

if TYPE_CHECKING:
    from walletvoucher.service._webhooks import Webhooks

if TYPE_CHECKING:
    from walletvoucher.service.apns import ApnsTokenKey

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

ENV_PREFIX = "WALLETVOUCHER_"
FILE_KEYS = ("pass_type_identifier", "team_identifier", "public_url", "certificate", "key", "wwdr", "p12",
             "redeem_link", "scan_key_id", "google_callback_keys")
SECRET_KEYS = ("token_secret", "key_password", "p12_password", "scan_key_secret")
APNS_KEYS = ("key_file", "key_id", "team_id")
"""The ``[apns]`` table; in ServiceConfig and the environment they are ``apns_key_file`` etc."""


@attrs.frozen(kw_only=True)
class ServiceConfig:
    """What ``serve`` needs; secrets are never shown in the repr. ``demo`` when nothing was given."""

    pass_type_identifier: str | None = None
    team_identifier: str | None = None
    public_url: str | None = None
    certificate: Path | None = None
    key: Path | None = None
    wwdr: Path | None = None
    p12: Path | None = None
    token_secret: str | None = attrs.field(default=None, repr=False)
    key_password: str | None = attrs.field(default=None, repr=False)
    p12_password: str | None = attrs.field(default=None, repr=False)
    redeem_link: str | None = None  # Self-Redeem vouchers' link, with {serial}
    scan_key_id: str | None = None  # Staff-Scan vouchers: the scanners' key id ...
    scan_key_secret: str | None = attrs.field(default=None, repr=False)  # ... and its shared secret
    apns_key_file: Path | None = None  # [apns]: a .p8 provider-token key, its id and team
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    google_callback_keys: Path | None = None  # Google's root keys (JSON): serve /google/callbacks
    webhook_tables: tuple[Any, ...] = ()  # [[webhooks]]: url, secret_env, events, name

    def webhooks(self, environ: Mapping[str, str]) -> Webhooks | None:
        """The ``[[webhooks]]`` endpoints, their secrets read from *environ* (None when there are none)."""
        if not self.webhook_tables:
            return None
        from walletvoucher.service._webhooks import load_webhooks

        return load_webhooks(list(self.webhook_tables), environ)

    @property
    def demo(self) -> bool:
        """True when nothing at all was configured: run on a freshly minted test chain."""
        names = (*FILE_KEYS, *SECRET_KEYS, *(f"apns_{k}" for k in APNS_KEYS))
        return all(getattr(self, name) is None for name in names)

    def apns_token_key(self) -> ApnsTokenKey | None:
        """The ``[apns]`` table's ``.p8`` provider-token key, or None when the table is not given."""
        if self.apns_key_file is None and self.apns_key_id is None:
            return None
        from walletvoucher.service.apns import ApnsTokenKey

        team = self.apns_team_id or self.team_identifier
        settings = (("key_file", self.apns_key_file), ("key_id", self.apns_key_id), ("team_id", team))
        for name, value in settings:
            if not value:
                raise ServiceConfigError(
                    "is required for APNs token auth", field=f"[apns] {name}",
                    fix=f"set {name} in the [apns] table or {ENV_PREFIX}APNS_{name.upper()} (the key id and "
                    "team are on the key's page in Apple's developer portal)",
                )
        assert self.apns_key_file is not None and self.apns_key_id is not None and team is not None
        return ApnsTokenKey.from_p8(self.apns_key_file, key_id=self.apns_key_id, team_id=team)

    def check(self) -> None:
        """Raise :class:`ServiceConfigError` naming the first missing or unusable setting."""
        for name in ("pass_type_identifier", "team_identifier", "public_url", "token_secret", "wwdr"):
            if getattr(self, name) is None:
                raise ServiceConfigError(
                    "is required outside demo mode",
                    field=name,
                    fix=f"set {name} in the [service] table or {ENV_PREFIX}{name.upper()}",
                )
        if (self.p12 is None) == (self.certificate is None or self.key is None):
            raise ServiceConfigError(
                "give certificate + key, or p12 (not both)",
                field="certificate",
                fix="point at the Pass Type ID certificate and its key",
            )
        if not str(self.public_url).startswith("https://"):
            raise ServiceConfigError(
                "must be an https:// URL",
                field="public_url",
                value=self.public_url,
                fix="Wallet only talks to web services over https",
            )


def load_config(path: Path | None, environ: Mapping[str, str]) -> ServiceConfig:
    """Read the ``[service]`` table of *path* (if given), then let ``WALLETVOUCHER_*`` variables win."""
    values: dict[str, Any] = _read_file(path) if path is not None else {}
    for name in (*FILE_KEYS, *SECRET_KEYS, *(f"apns_{k}" for k in APNS_KEYS)):
        env = environ.get(ENV_PREFIX + name.upper())
        if env:
            values[name] = env
    paths = {"certificate", "key", "wwdr", "p12", "apns_key_file", "google_callback_keys"}
    base = path.parent if path is not None else Path()
    kwargs = {k: (base / v if k in paths else v) for k, v in values.items()}
    return ServiceConfig(**kwargs)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServiceConfigError(
            f"cannot be read: {exc.strerror}",
            field="--config",
            value=str(path),
            fix="give the path of a TOML file",
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ServiceConfigError(
            f"is not valid TOML: {exc}", field="--config", value=str(path), fix="check the file's syntax"
        ) from exc
    hooks = doc.get("webhooks", [])
    if not isinstance(hooks, list):
        raise ServiceConfigError(
            "must be an array of tables", field="[[webhooks]]", value=type(hooks).__name__,
            fix='write each receiver as [[webhooks]] with url = "..." and secret_env = "..."',
        )  # fmt: skip
    return {**_service_table(doc), **_apns_table(doc), **({"webhook_tables": tuple(hooks)} if hooks else {})}


def _apns_table(doc: dict[str, Any]) -> dict[str, Any]:
    table = doc.get("apns", {})
    if not isinstance(table, dict):
        raise ServiceConfigError("must be a table", field="[apns]", value=type(table).__name__,
                                 fix="write key_file, key_id and team_id under an [apns] header")
    for name, value in table.items():
        if name not in APNS_KEYS or not isinstance(value, str):
            raise ServiceConfigError("is not a known text setting", field=f"[apns].{name}", value=value,
                                     fix=f"use one of: {', '.join(APNS_KEYS)}")
    return {f"apns_{name}": value for name, value in table.items()}


def _service_table(doc: dict[str, Any]) -> dict[str, Any]:
    table = doc.get("service", {})
    if not isinstance(table, dict):
        raise ServiceConfigError(
            "must be a table",
            field="[service]",
            value=type(table).__name__,
            fix="write the settings under a [service] header",
        )
    for name, value in table.items():
        if name in SECRET_KEYS:
            raise ServiceConfigError(
                "is a secret and must not be in a file",
                field=name,
                secret=True,
                fix=f"set {ENV_PREFIX}{name.upper()} in the environment instead",
            )
        if name not in FILE_KEYS or not isinstance(value, str):
            raise ServiceConfigError(
                "is not a known text setting",
                field=f"[service].{name}",
                value=value,
                fix=f"use one of: {', '.join(FILE_KEYS)}",
            )
    return dict(table)
