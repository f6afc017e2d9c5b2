"""A program described in a file (TOML or JSON): what ``walletvoucher build`` reads.

Edge code: it reads the file and the artwork it names, and builds the model's :class:`Program` plus the
wallet options. Every mistake raises :class:`~walletvoucher.errors.ProgramFileError` naming the file, the
key (``[brand] background``) and the fix. Paths in the file are relative to the file.

A minimal file::

    [program]
    id = "coffee"
    name = { default = "Coffee card", zh-Hans = "咖啡卡" }   # or a plain string
    goal = 10
    redemption = "redeem_code"          # self_redeem | staff_scan | redeem_code
    validity = { days = 30 }            # or { months = 3 }, { until = "2026-12-31T23:59:59+00:00" }
    earn = { per = "amount", step = "10000", currency = "UZS", remainder = "keep" }   # or per = "visit"
    # kind = "prepaid"                  # a punch card sold for punches = 10 items (goal then optional)

    [brand]
    name = "Kahve"
    foreground = "#FFFFFF"
    background = "#1E3A5F"
    label = "#F2C14E"
    logo = "art/logo.png"               # optional PNGs in this file's folder: logo, icon, stamp_icon

    [reward]
    title = "Free coffee"
    description = "Any size"

    [[milestones]]                      # optional: interim rewards on the way to the goal
    at = 3
    reward = { title = "Free cookie" }  # title, description, terms, value as in [reward]
    redemption = "self_redeem"

    [stamps]                            # optional: stamps lapse (never | fixed | rolling)
    expire = "rolling"
    days = 90                           # rolling: days after the last stamp; fixed: until = "..."
    warn_days = 7                       # the pass warns this many days ahead

    [card]                              # optional: how long a card is valid
    valid = { days_after_join = 365 }   # or { until = "2027-12-31T23:59:59+05:00" }

    [apple]                             # optional: what a signed .pkpass needs
    pass_type_identifier = "pass.com.example.coffee"
    team_identifier = "ABCDE12345"
    certificate = "certs/pass.pem"      # with key = ..., or p12 = "Certificates.p12"
    key = "certs/pass.key"
    wwdr = "certs/wwdr.pem"
    password_env = "WALLETVOUCHER_KEY_PASSWORD"   # the key's password comes from here, never the file

    [[apple.branches]]                  # optional: where each [reward.context] location is; a voucher
    id = "chilonzor"                    # bound to it shows on the lock screen near it (pass.json locations)
    latitude = 41.2756                  # decimal degrees (WGS 84)
    longitude = 69.2034
    relevant_text = "Chilonzor branch is round the corner"   # optional, translatable like name

    [google]                            # optional: what a save link needs
    issuer_id = "3388000000022222222"
    service_account = "service-account.json"
    origins = ["https://shop.example.com"]
    logo_url = "https://shop.example.com/logo.png"

    [scan]                              # Staff-Scan vouchers: the key the staff app verifies with
    key_id = "till-2026"
    secret_env = "WALLETVOUCHER_SCAN_KEY_SECRET"  # the secret comes from here, never the file

    [join]                              # optional: the join page asks for nothing unless told
    ask = ["name", "email"]             # any of "name", "email", "phone" (each optional to fill in)
    consent = { default = "We e-mail you when a reward is ready.", zh-Hans = "奖励可用时发邮件通知您。" }

Artwork must be a PNG of at most 4096 pixels a side inside the program file's folder (symlinks are
resolved); every file is read only if it is a regular file under its size cap.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from walletvoucher._files import UnreadableFile, inside_folder, read_regular_file
from walletvoucher.codes import ScanKey, Symbology
from walletvoucher.errors import ProgramFileError, ValidationError, WalletVoucherError
from walletvoucher.model import (
    Brand,
    CardValidity,
    EarnByAmount,
    EarnPolicy,
    LocalizedText,
    Milestone,
    Money,
    Overflow,
    PerCard,
    Program,
    ProgramKind,
    RedemptionContext,
    RedemptionMethod,
    Remainder,
    Reward,
    StampExpiry,
    StampExpiryKind,
    TimeWindow,
    Validity,
)
from walletvoucher.model._brand import check_png

if TYPE_CHECKING:
    from walletvoucher._signers import AppleSigner
    from walletvoucher.apple import AppleOptions
    from walletvoucher.google import GoogleOptions
    from walletvoucher.service._join import JoinSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Program files and artwork larger than this are refused (a program file is a few kilobytes).
MAX_FILE_BYTES = 1 << 20
MAX_ARTWORK_BYTES = 4 << 20

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class AppleSigning:
    """Where the Apple signing material is; the password comes from the environment variable named."""

    pass_type_identifier: str
    team_identifier: str
    certificate: Path | None = None
    key: Path | None = None
    p12: Path | None = None
    wwdr: Path | None = None
    password_env: str = "WALLETVOUCHER_KEY_PASSWORD"
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def load_signer(
        self, *, at: datetime, password: str | None, password_from: str | None = None
    ) -> AppleSigner:
        """Load and check the signing material (see :func:`walletvoucher.keys.load_apple_signer`).

        *password_from* is where the password came from, named in a password error's fix (by default
        the environment variable :attr:`password_env`).
        """
        from walletvoucher.keys import load_apple_signer

        return load_apple_signer(
            pass_type_identifier=self.pass_type_identifier, team_identifier=self.team_identifier,
            certificate=self.certificate, key=self.key, p12=self.p12, wwdr=self.wwdr,
            password=password, at=at, password_from=password_from or self.password_env,
        )

    def apple_options(self, *, path: Path | None = None) -> AppleOptions:
        """The :class:`~walletvoucher.apple.AppleOptions` the file describes.

        With the program file's *path*, a value the options refuse is a :class:`ProgramFileError`
        naming the file and the ``[apple]`` key.
        """
        from walletvoucher.apple import AppleOptions

        try:
            return AppleOptions(pass_type_identifier=self.pass_type_identifier,
                                team_identifier=self.team_identifier, **dict(self.options))
        except WalletVoucherError as exc:
            if path is None:
                raise
            raise _Reader(path, self.options, "apple").error(
                exc.field or "", exc.message, exc.value, exc.fix or "see the README's Apple Wallet section"
            ) from exc


@attrs.frozen(kw_only=True)
class GoogleSetup:
    """The Google Wallet part of a program file: the key file and the options' values."""

    service_account: Path
    options: Mapping[str, Any]

    def google_options(self, *, scan_key: ScanKey | None = None) -> GoogleOptions:
        """The :class:`~walletvoucher.google.GoogleOptions` the file describes (with *scan_key*, the
        ``[scan]`` table's key, see :meth:`ProgramFile.scan_key`)."""
        from walletvoucher.google import GoogleOptions

        return GoogleOptions(**dict(self.options), scan_key=scan_key)


@attrs.frozen(kw_only=True)
class ScanSetup:
    """The ``[scan]`` table: the Staff-Scan key's id, and the environment variable holding its secret."""

    key_id: str
    secret_env: str = "WALLETVOUCHER_SCAN_KEY_SECRET"

    def scan_key(self, environ: Mapping[str, str]) -> ScanKey:
        """The :class:`~walletvoucher.codes.ScanKey`, its secret read from *environ* (never the file)."""
        secret = environ.get(self.secret_env)
        if not secret:
            raise ProgramFileError(
                "names a variable that is not set", field="[scan] secret_env", value=self.secret_env,
                fix=f"export {self.secret_env} with the secret your staff app verifies tokens with "
                "(at least 16 bytes, e.g. from `openssl rand -hex 32`)",
            )
        try:
            return ScanKey(key_id=self.key_id, secret=secret.encode("utf-8", "surrogatepass"))
        except WalletVoucherError as exc:  # the id was checked when the file was read: the secret is short
            raise ProgramFileError(
                f"holds a secret that {exc.message}", field=f"[scan] secret_env {self.secret_env}",
                secret=True,
                fix=f"export {self.secret_env} with a longer secret, e.g. from `openssl rand -hex 32`",
            ) from None


@attrs.frozen(kw_only=True)
class ProgramFile:
    """What a program file describes: the program and, when given, its Apple, Google and scan setup."""

    path: Path
    program: Program
    apple: AppleSigning | None = None
    google: GoogleSetup | None = None
    join: JoinSettings | None = None
    scan: ScanSetup | None = None

    def scan_key(self, environ: Mapping[str, str]) -> ScanKey | None:
        """The ``[scan]`` table's key, its secret read from *environ*; None without the table."""
        return None if self.scan is None else self.scan.scan_key(environ)


class _Reader:
    """Reads one table of the file; every error names the file and the key."""

    def __init__(self, path: Path, table: Mapping[str, Any], name: str) -> None:
        self.path, self.table, self.name = path, table, name

    def error(self, key: str, message: str, value: Any, fix: str) -> ProgramFileError:
        table = f"[{self.name}] " if self.name else ""
        where = f"{self.path}: {table}{key}".rstrip() if key else f"{self.path}: [{self.name}]"
        if value is None:  # nothing to show (a missing key or table): no "=None" after the key
            return ProgramFileError(message, field=where, fix=fix)
        return ProgramFileError(message, field=where, value=_shorten(value), fix=fix)

    def get(self, key: str, kind: type[T] | tuple[type, ...], *, fix: str, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.error(key, "is missing", None, fix)
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(key, f"must be {_kind_name(kind)}", value, fix)
        return value

    def text(self, key: str, *, fix: str) -> LocalizedText:
        text = self.optional_text(key, fix=fix, default=...)
        assert text is not None  # a missing required key raised above
        return text

    def optional_text(self, key: str, *, fix: str, default: Any = None) -> LocalizedText | None:
        value = self.get(key, (str, dict), fix=fix, default=default)
        if value is None:
            return None
        if isinstance(value, str):
            return self.build(key, lambda: LocalizedText(default=value), value)
        return self.build(key, lambda: _localized(value), value)

    def path_of(self, key: str, *, fix: str) -> Path | None:
        value = self.get(key, str, fix=fix, default=None)
        if value is not None and ("\0" in value or not value or len(value) > _MAX_PATH):
            raise self.error(key, f"is not a usable path (empty, longer than {_MAX_PATH}, or with a NUL "
                             "character)", value, fix)
        return None if value is None else (self.path.parent / value)

    def artwork(self, key: str) -> bytes | None:
        path = self.path_of(key, fix=_ART_FIX)
        if path is None:
            return None
        folder = self.path.parent
        if not inside_folder(path, folder):
            raise self.error(key, "is outside the program file's folder (symlinks resolved)", self.table[key],
                             f"copy the image into {folder.resolve()} or a folder under it, and give its "
                             "path relative to the program file")
        data = _read_bounded(path, MAX_ARTWORK_BYTES, lambda msg: self.error(key, msg, str(path), _ART_FIX))
        try:
            check_png(key, data)
        except ValidationError as exc:
            raise self.error(key, exc.message, str(path), exc.fix or _ART_FIX) from None
        return data

    def duration(self, key: str, unit: str, *, fix: str) -> timedelta | None:
        """A whole number of *unit* (``hours``, ``minutes``) as a timedelta, or None when left out."""
        amount = self.get(key, int, fix=fix, default=None)
        if amount is None:
            return None
        try:
            return timedelta(**{unit: amount})
        except OverflowError:
            most = int(timedelta.max / timedelta(**{unit: 1}))
            raise self.error(key, f"is out of range (at most {most} {unit})", amount, fix) from None

    def build(self, key: str, make: Callable[[], T], value: Any) -> T:
        try:
            return make()
        except WalletVoucherError as exc:
            if not key and exc.field:  # a whole table built at once: name the key the model named
                key, value = exc.field, exc.value
            raise self.error(key, exc.message, value, exc.fix or "see the README's model section") from exc

    def unknown(self, known: set[str]) -> None:
        extra = sorted(set(self.table) - known)
        if extra:
            fix = _did_you_mean(extra[0], known) + f"use one of {sorted(known)}"
            raise self.error(extra[0], "is not a key this table knows", extra[0], fix)


def _did_you_mean(word: object, known: Collection[str]) -> str:
    """``"did you mean 'reward'? "`` when *word* is close to one of *known*, else ``""``."""
    if not isinstance(word, str) or len(word) > 200:  # keys are short; a huge one is compared to nothing
        return ""
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


_ART_FIX = "give the path of a PNG file, relative to the program file"
_MAX_PATH = 4096


def _shorten(value: Any) -> Any:
    """A value fit for a one-line message: a long text cut to its start, a table named by its size."""
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:60]}... ({len(value)} characters)"
    if isinstance(value, (dict, list)) and len(repr(value)) > 200:
        return f"<{type(value).__name__} of {len(value)} items>"
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a decimal number", dict: "a table",
             list: "a list", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _localized(value: Mapping[str, Any]) -> LocalizedText:
    if not isinstance(value.get("default"), str):
        raise ProgramFileError(
            "a translated text needs a default", field="default", value=value.get("default"),
            fix='write { default = "Coffee card", zh-Hans = "咖啡卡" }',
        )
    translations = {k: v for k, v in value.items() if k != "default"}
    return LocalizedText(default=value["default"], translations=translations)


def _read_bounded(path: Path, limit: int, error: Callable[[str], ProgramFileError]) -> bytes:
    try:
        return read_regular_file(path, limit)
    except UnreadableFile as exc:
        raise error(exc.reason) from exc


def load_program_file(path: str | os.PathLike[str]) -> ProgramFile:
    """Read a program file (``.toml`` or ``.json``) and build its program and wallet setup.

    >>> # loaded = load_program_file("coffee.toml"); loaded.program.goal
    """
    file = Path(path)
    raw = _parse(file)
    top = _Reader(file, raw, "")
    top.unknown({"program", "brand", "reward", "apple", "google", "scan", "join", "milestones", "stamps",
                 "card"})
    tables = {name: _Reader(file, top.get(name, dict, fix=f"add a [{name}] table"), name)
              for name in ("program", "brand", "reward")}
    brand = _brand(tables["brand"])
    reward = _reward(tables["reward"])
    rules: dict[str, Any] = {"milestones": _milestones(top)}
    if "stamps" in raw:
        stamps = top.get("stamps", dict, fix=_STAMPS_FIX)
        rules["stamp_expiry"] = _stamp_expiry(_Reader(file, stamps, "stamps"))
    if "card" in raw:
        rules["card_validity"] = _card_validity(_Reader(file, top.get("card", dict, fix=_CARD_FIX), "card"))
    program = _program(tables["program"], brand, reward, rules)
    optional = {name: _Reader(file, top.get(name, dict, fix=f"write [{name}] as a table of settings"), name)
                for name in ("apple", "google", "scan", "join") if name in raw}
    apple = _apple(optional["apple"], program) if "apple" in optional else None
    google = _google(optional["google"]) if "google" in optional else None
    scan = _scan(optional["scan"]) if "scan" in optional else None
    join = _join(optional["join"]) if "join" in optional else None
    return ProgramFile(path=file, program=program, apple=apple, google=google, scan=scan, join=join)


def _parse(file: Path) -> dict[str, Any]:
    def error(message: str) -> ProgramFileError:
        return ProgramFileError(message, field=str(file), fix="give a TOML or JSON program file")

    data = _read_bounded(file, MAX_FILE_BYTES, error)
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise error("is not UTF-8 text") from exc
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise ProgramFileError(f"cannot be parsed ({exc})", field=str(file),
                               fix="fix the syntax at the position given") from exc
    if not isinstance(parsed, dict):
        raise error("must hold a table (a JSON object) at the top")
    return parsed


def _brand(r: _Reader) -> Brand:
    r.unknown({"name", "foreground", "background", "label", "logo", "icon", "stamp_icon"})
    colour_fix = 'give a colour such as "#1E3A5F"'
    values = {
        "name": r.text("name", fix="give the business's name"),
        **{k: r.get(k, str, fix=colour_fix) for k in ("foreground", "background", "label")},
        **{k: r.artwork(k) for k in ("logo", "icon", "stamp_icon")},
    }
    return r.build("", lambda: Brand(**values), None)


def _reward(r: _Reader, *, description_required: bool = True) -> Reward:
    r.unknown({"title", "description", "terms", "value", "context"})
    context = _context(r)
    value = r.get("value", dict, fix='write value = { amount = "3.50", currency = "EUR" }', default=None)
    money = None
    if value is not None:
        amount, currency = str(value.get("amount")), value.get("currency")
        money = r.build("value", lambda: Money(amount=amount, currency=currency), value)
    title = r.text("title", fix="give the reward's title")
    description = (r.text("description", fix="describe the reward") if description_required
                   else r.optional_text("description", fix="describe the reward") or title)
    terms = r.optional_text("terms", fix="give the terms as text")
    return r.build("", lambda: Reward(title=title, description=description, value=money, terms=terms,
                                      context=context), None)


_CONTEXT_FIX = ('write [reward.context] with locations = ["chilonzor"], channels = ["in_store"], '
                'windows = [{ days = "mon-fri", from = "14:00", to = "17:00" }], per_card = "one_per_day"')


def _context(r: _Reader) -> RedemptionContext | None:
    """``[reward.context]``: where, through which channel, when and how often the reward is redeemed."""
    raw = r.get("context", dict, fix=_CONTEXT_FIX, default=None)
    if raw is None:
        return None
    c = _Reader(r.path, raw, f"{r.name}.context")
    c.unknown({"locations", "channels", "windows", "per_card"})
    locations = c.get("locations", list, fix='write locations = ["chilonzor"]', default=[])
    channels = c.get("channels", list, fix='write channels = ["in_store"] (or "online")', default=[])
    windows = []
    for index, table in enumerate(c.get("windows", list, fix=_CONTEXT_FIX, default=[])):
        if not isinstance(table, dict):
            raise c.error(f"windows[{index}]", "must be a table", table, _CONTEXT_FIX)
        w = _Reader(r.path, table, f"{r.name}.context.windows[{index}]")
        w.unknown({"days", "from", "to"})
        fields = {"days": w.get("days", str, fix='write days = "mon-fri"'),
                  "start": w.get("from", str, fix='write from = "14:00"'),
                  "end": w.get("to", str, fix='write to = "17:00"')}
        windows.append(_build_keyed(w, functools.partial(TimeWindow, **fields)))
    per_card = _choice(c, "per_card", PerCard, None)
    return _build_keyed(c, functools.partial(RedemptionContext, locations=locations, channels=channels,
                                             windows=tuple(windows), per_card=per_card))


def _build_keyed(r: _Reader, make: Callable[[], T]) -> T:
    """``make()``; a model error names the key as the file spells it (``context.windows.days``: ``days``)."""
    try:
        return make()
    except WalletVoucherError as exc:
        key = (exc.field or "").rsplit(".", 1)[-1]
        key = key if key in r.table else ""
        raise r.error(key, exc.message, exc.value, exc.fix or _CONTEXT_FIX) from exc


_ENUM_FIX = "use one of {}"


def _choice(r: _Reader, key: str, enum: Any, default: Any) -> Any:
    names = [m.value for m in enum]
    raw = r.get(key, str, fix=_ENUM_FIX.format(names), default=None)
    if raw is None:
        return default
    try:
        return enum(raw)
    except ValueError:
        raise r.error(key, "is not a known choice", raw, _ENUM_FIX.format(names)) from None


_MILESTONE_FIX = ('write [[milestones]] tables: at = 3, reward = { title = "Free cookie" }, '
                  'redemption = "self_redeem"')


def _milestones(top: _Reader) -> tuple[Milestone, ...]:
    """The ``[[milestones]]`` tables: interim rewards at a number of stamps below the goal."""
    raw = top.get("milestones", list, fix=_MILESTONE_FIX, default=[])
    out = []
    for index, table in enumerate(raw):
        name = f"milestones[{index}]"
        if not isinstance(table, dict):
            raise top.error(name, "must be a table", table, _MILESTONE_FIX)
        m = _Reader(top.path, table, name)
        m.unknown({"at", "reward", "redemption"})
        at = m.get("at", int, fix="give the stamps at which the milestone is reached, below the goal")
        reward_table = m.get("reward", dict, fix='write reward = { title = "Free cookie" }')
        reward = _reward(_Reader(top.path, reward_table, f"{name}.reward"), description_required=False)
        method = _choice(m, "redemption", RedemptionMethod, None)
        if method is None:
            raise m.error("redemption", "is missing", None,
                          _ENUM_FIX.format([x.value for x in RedemptionMethod]))
        out.append(m.build("", functools.partial(Milestone, at=at, reward=reward, redemption=method), None))
    return tuple(out)


_STAMPS_FIX = 'write [stamps] with expire = "rolling" and days = 90 (or expire = "fixed" and until = ...)'


def _stamp_expiry(s: _Reader) -> StampExpiry:
    """The ``[stamps]`` table: when stamps lapse, and how many days ahead the pass warns."""
    s.unknown({"expire", "days", "until", "warn_days"})
    kind = _choice(s, "expire", StampExpiryKind, StampExpiryKind.NEVER)
    days = s.get("days", int, fix="give whole days, e.g. 90", default=None)
    until = s.get("until", (str, datetime), fix='give a time with its zone, e.g. "2027-03-31T23:59:59+05:00"',
                  default=None)
    moment = until if not isinstance(until, str) else s.build("until", lambda: _iso(until), until)
    warn = s.get("warn_days", int, fix="give whole days, e.g. 7", default=None)
    try:
        return StampExpiry(expire=kind, days=days, until=moment, warn_days=warn)
    except WalletVoucherError as exc:  # name the key as the file spells it
        key = (exc.field or "expire").removeprefix("stamps.")
        raise s.error(key, exc.message, exc.value, exc.fix or _STAMPS_FIX) from exc


_CARD_FIX = "write [card] with valid = { days_after_join = 365 } (or { until = ... })"


def _card_validity(c: _Reader) -> CardValidity:
    """The ``[card]`` table: how long a card is valid."""
    c.unknown({"valid"})
    raw = c.get("valid", dict, fix=_CARD_FIX)
    v = _Reader(c.path, raw, "card.valid")
    v.unknown({"days_after_join", "until"})
    days = v.get("days_after_join", int, fix="give whole days, e.g. 365", default=None)
    until = v.get("until", (str, datetime), fix='give a time with its zone, e.g. "2027-12-31T23:59:59+05:00"',
                  default=None)
    moment = until if not isinstance(until, str) else v.build("until", lambda: _iso(until), until)
    if days is None and until is None:
        raise v.error("days_after_join", "is missing", None, "give days_after_join = 365 or until = ...")
    try:
        return CardValidity(days_after_join=days, until=moment)
    except WalletVoucherError as exc:  # name the key as the file spells it
        key = (exc.field or "").removeprefix("card.valid")
        raise v.error(key, exc.message, exc.value, exc.fix or _CARD_FIX) from exc


def _program(r: _Reader, brand: Brand, reward: Reward, rules: Mapping[str, Any] | None = None) -> Program:
    r.unknown({"id", "name", "goal", "redemption", "validity", "version", "default_language", "timezone",
               "earn_policy", "overflow", "code_symbology", "stamp_label", "earn", "kind", "punches"})
    kind = _choice(r, "kind", ProgramKind, ProgramKind.STAMPS)
    punches = r.get("punches", int, fix="give the punches the card is sold with, e.g. punches = 10",
                    default=None)
    values: dict[str, Any] = {
        "id": r.get("id", str, fix="give the program an id such as 'coffee'"),
        "name": r.text("name", fix="give the program's name"),
        "goal": r.get("goal", int, fix="give the number of stamps to the reward, e.g. 10",
                      default=punches if kind is ProgramKind.PREPAID and punches is not None else ...),
        "kind": kind,
        "punches": punches,
        "redemption": _choice(r, "redemption", RedemptionMethod, None),
        "brand": brand,
        "reward": reward,
        "validity": _validity(r),
        "version": r.get("version", int, fix="give a whole number", default=1),
        "default_language": r.get("default_language", str, fix="give a language tag", default="en"),
        "timezone": r.get("timezone", str, fix="give an IANA zone such as 'Asia/Tashkent'", default="UTC"),
        "earn_policy": _earn_policy(r),
        "earn_by_amount": _earn(r),
        "overflow": _choice(r, "overflow", Overflow, Overflow.CARRY_OVER),
        "code_symbology": _choice(r, "code_symbology", Symbology, Symbology.QR),
        **(rules or {}),
    }
    if values["redemption"] is None:
        raise r.error("redemption", "is missing", None, _ENUM_FIX.format([m.value for m in RedemptionMethod]))
    label = r.optional_text("stamp_label", fix="give the label of the stamp count")
    if label is not None:
        values["stamp_label"] = label
    return r.build("", lambda: Program(**values), None)


def _validity(r: _Reader) -> Validity:
    raw = r.get("validity", dict, fix="write validity = { days = 30 }", default=None)
    if raw is None:
        return Validity()
    v = _Reader(r.path, raw, "program.validity")
    v.unknown({"days", "months", "until", "start_delay_hours"})
    delay = v.duration("start_delay_hours", "hours", fix="give whole hours, e.g. 24") or timedelta(0)
    days = v.get("days", int, fix="give whole days", default=None)
    months = v.get("months", int, fix="give whole calendar months, e.g. 3", default=None)
    until = v.get("until", (str, datetime), fix="give a time with its zone", default=None)
    given = [k for k, value in (("days", days), ("months", months), ("until", until)) if value is not None]
    if len(given) > 1:
        raise v.error(given[1], f"cannot be given with {given[0]}", v.table[given[1]],
                      "give one of days, months or until")
    if months is not None:
        return v.build("months", lambda: Validity.for_months(months, start_delay=delay), months)
    if until is not None:
        moment = until if isinstance(until, datetime) else v.build("until", lambda: _iso(until), until)
        return v.build("until", lambda: Validity.fixed(moment, start_delay=delay), until)
    if days is not None:
        return v.build("days", lambda: Validity.for_days(days, start_delay=delay), days)
    return Validity.unlimited(start_delay=delay)


def _iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ProgramFileError("is not an ISO time", field="until", value=text,
                               fix="write e.g. 2026-12-31T23:59:59+00:00") from None


def _earn(r: _Reader) -> EarnByAmount | None:
    """``earn = { per = "amount", step = "10000", currency = "UZS", remainder = "keep" }`` (or per visit)."""
    raw = r.get("earn", dict, fix='write earn = { per = "visit" } or { per = "amount", step = "10000", '
                'currency = "UZS" }', default=None)
    if raw is None:
        return None
    e = _Reader(r.path, raw, "program.earn")
    e.unknown({"per", "step", "currency", "remainder"})
    per = e.get("per", str, fix='give per = "visit" or per = "amount"')
    if per == "visit":
        extra = sorted(set(raw) - {"per"})
        if extra:
            raise e.error(extra[0], 'only applies to per = "amount"', raw[extra[0]],
                          "leave it out, or earn by amount")
        return None
    if per != "amount":
        raise e.error("per", "is not a known choice", per, "use one of ['amount', 'visit']")
    step = e.get("step", (str, int), fix='give the amount per stamp as text, e.g. step = "10000"')
    currency = e.get("currency", str, fix='give an ISO 4217 code, e.g. currency = "UZS"')
    remainder = _choice(e, "remainder", Remainder, Remainder.KEEP)
    return e.build("", lambda: EarnByAmount(step=str(step), currency=currency, remainder=remainder), raw)


def _earn_policy(r: _Reader) -> EarnPolicy | None:
    raw = r.get("earn_policy", dict, fix="write earn_policy = { max_per_day = 3 }", default=None)
    if raw is None:
        return None
    p = _Reader(r.path, raw, "program.earn_policy")
    p.unknown({"min_interval_minutes", "max_per_day", "max_per_call"})
    values = {
        "min_interval": p.duration("min_interval_minutes", "minutes", fix="give whole minutes, e.g. 30"),
        "max_per_day": p.get("max_per_day", int, fix="give a whole number", default=None),
        "max_per_call": p.get("max_per_call", int, fix="give a whole number", default=None),
    }
    return p.build("", lambda: EarnPolicy(**values), raw)


_APPLE_OPTION_KEYS = {"organization_name", "web_service_url", "redeem_link", "sharing_prohibited",
                      "voucher_on_card", "language"}


def _apple(r: _Reader, program: Program | None = None) -> AppleSigning:
    r.unknown({"pass_type_identifier", "team_identifier", "certificate", "key", "p12", "wwdr", "password_env",
               "branches", *_APPLE_OPTION_KEYS})
    options = {k: r.table[k] for k in _APPLE_OPTION_KEYS if k in r.table}
    if "branches" in r.table:
        options["branches"] = _branches(r, _context_locations(program))
    key_fix = "give the path relative to the program file"
    signing = AppleSigning(
        pass_type_identifier=r.get("pass_type_identifier", str, fix="give e.g. 'pass.com.example.coffee'"),
        team_identifier=r.get("team_identifier", str, fix="give your 10-character Apple team id"),
        certificate=r.path_of("certificate", fix=key_fix),
        key=r.path_of("key", fix=key_fix),
        p12=r.path_of("p12", fix=key_fix),
        wwdr=r.path_of("wwdr", fix=key_fix),
        password_env=r.get("password_env", str, fix="name an environment variable",
                           default="WALLETVOUCHER_KEY_PASSWORD"),
        options=options,
    )
    if signing.p12 is None and (signing.certificate is None or signing.key is None):
        raise r.error("p12", "no signing material is named", None,
                      "give p12 = 'Certificates.p12', or certificate = ... and key = ...")
    return signing


#: At most this many ``[[apple.branches]]`` (a voucher's pass shows at most 10 of them).
MAX_BRANCHES = 100
_BRANCH_FIX = ('write [[apple.branches]] tables: id = "chilonzor" (a location of [reward.context]), '
               'latitude = 41.2756, longitude = 69.2034, relevant_text = "Chilonzor branch is near"')


def _context_locations(program: Program | None) -> set[str]:
    """Every location id a reward of *program* (the main one or a milestone's) is bound to."""
    if program is None:
        return set()
    rewards = [program.reward, *(m.reward for m in program.milestones)]
    return {name for reward in rewards if reward.context is not None for name in reward.context.locations}


def _branches(r: _Reader, known: set[str]) -> dict[str, Any]:
    """``[[apple.branches]]``: where each location of the rewards' contexts is, for the passes' locations."""
    from walletvoucher.apple import Location

    raw = r.get("branches", list, fix=_BRANCH_FIX)
    if len(raw) > MAX_BRANCHES:
        raise r.error("branches", f"lists more than {MAX_BRANCHES} branches", f"<{len(raw)} tables>",
                      "keep the branches your rewards are redeemed at")
    out: dict[str, Any] = {}
    for index, table in enumerate(raw):
        name = f"apple.branches[{index}]"
        if not isinstance(table, dict):
            raise r.error(f"branches[{index}]", "must be a table", table, _BRANCH_FIX)
        b = _Reader(r.path, table, name)
        b.unknown({"id", "latitude", "longitude", "relevant_text"})
        branch_id = b.get("id", str, fix='give the location id, e.g. id = "chilonzor"')
        if branch_id not in known:
            raise b.error("id", "is not a location of any [reward.context] (or a milestone's)", branch_id,
                          _did_you_mean(branch_id, known)
                          + (f"use one of {sorted(known)}" if known else
                             'first bind a reward to it: [reward.context] locations = ["chilonzor"]'))
        if branch_id in out:
            raise b.error("id", "names a branch a second time", branch_id, "give each branch once")
        where = {k: b.get(k, (int, float), fix="give decimal degrees (WGS 84), e.g. 41.2756")
                 for k in ("latitude", "longitude")}
        text = b.optional_text("relevant_text", fix="give the lock-screen text, e.g. \"Chilonzor is near\"")
        out[branch_id] = b.build("", functools.partial(Location, relevant_text=text, **where), None)
    return out


_GOOGLE_OPTION_KEYS = {"issuer_id", "origins", "logo_url", "issuer_name", "hero_image_url_template",
                       "redeem_link_template", "homepage_url"}


def _google(r: _Reader) -> GoogleSetup:
    r.unknown({"service_account", *_GOOGLE_OPTION_KEYS})
    account = r.path_of("service_account", fix="give the service-account JSON key file's path")
    if account is None:
        raise r.error("service_account", "is missing", None, "give the service-account JSON key file's path")
    for key, fix in (("issuer_id", "give your issuer id from the Google Pay & Wallet Console"),
                     ("origins", 'list the sites that show the link, e.g. ["https://shop.example.com"]'),
                     ("logo_url", "give the https URL of the logo Google shows")):
        if key not in r.table:
            raise r.error(key, "is missing", None, fix)
    setup = GoogleSetup(service_account=account, options={k: r.table[k] for k in _GOOGLE_OPTION_KEYS
                                                          if k in r.table})
    r.build("", setup.google_options, None)  # the options' own checks, naming this file and table
    return setup


def _scan(r: _Reader) -> ScanSetup:
    if "secret" in r.table:
        raise ProgramFileError("is a secret and must not be in a file", field=f"{r.path}: [scan] secret",
                               secret=True, fix="put it in the environment variable secret_env names")
    r.unknown({"key_id", "secret_env"})
    key_id = r.get("key_id", str, fix='name the key your staff app verifies with, e.g. key_id = "till-2026"')
    env = r.get("secret_env", str, fix="name an environment variable",
                default="WALLETVOUCHER_SCAN_KEY_SECRET")
    r.build("key_id", lambda: ScanKey(key_id=key_id, secret=bytes(32)), key_id)  # the id's rules, now
    return ScanSetup(key_id=key_id, secret_env=env)


def _join(r: _Reader) -> JoinSettings:
    from walletvoucher.service._join import JoinSettings

    r.unknown({"ask", "consent"})
    ask = r.get("ask", list, fix='list what to ask, e.g. ask = ["name", "email"]', default=[])
    consent = r.optional_text("consent", fix="say what the details are used for")
    return r.build("ask", lambda: JoinSettings(ask=tuple(ask), consent=consent), ask)
