"""Smart Vouchers: a reward the customer redeems once, separate from collecting stamps."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from walletvoucher.codes import CodeOrigin, RedeemCode, ScanKey, codes_match, verify_scan_token
from walletvoucher.errors import (
    ProofMismatch,
    ReplayError,
    TransitionError,
    ValidationError,
    VoucherAlreadyRedeemed,
    VoucherExpired,
    VoucherNotYetValid,
    VoucherVoided,
    WrongRedeemCode,
)
from walletvoucher.model._events import Event, EventType, freeze, trusted_event
from walletvoucher.model._program import RedemptionMethod, Reward
from walletvoucher.model._slots import changer, maker
from walletvoucher.model._validate import (
    _IDENT,
    aware,
    check_at,
    identifier,
    instance_of,
    is_aware,
    optional_text,
    positive,
)


class VoucherStatus(enum.Enum):
    """``ISSUED`` (not yet valid) -> ``ACTIVE`` -> ``REDEEMED`` | ``EXPIRED`` | ``VOIDED``."""

    ISSUED = "issued"
    ACTIVE = "active"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOIDED = "voided"

    @property
    def is_final(self) -> bool:
        """Redeemed, expired and voided vouchers never change again."""
        return self in (VoucherStatus.REDEEMED, VoucherStatus.EXPIRED, VoucherStatus.VOIDED)


def _by(instance: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise ValidationError(
            "must be 1-120 characters naming who redeemed",
            field="by",
            value=value,
            fix="name the staff member, till or 'customer'",
        )


@attrs.frozen(kw_only=True)
class SelfRedeem:
    """Proof for a Self-Redeem voucher: the customer opened it and used it."""

    by: str = attrs.field(default="customer", validator=_by)


@attrs.frozen(kw_only=True)
class CodeEntry:
    """Proof for a Redeem Code voucher: the code as staff typed or scanned it into the POS."""

    code: str = attrs.field(validator=instance_of(str, hint="pass the code as typed or scanned (a str)"))
    by: str = attrs.field(default="pos", validator=_by)


def _key_tuple(value: Iterable[ScanKey]) -> tuple[ScanKey, ...]:
    keys = tuple(value) if isinstance(value, Iterable) and not isinstance(value, (str, bytes)) else (value,)
    for key in keys:
        if not isinstance(key, ScanKey):
            raise ValidationError(
                f"must be ScanKey objects, not {type(key).__name__}", field="keys", value=type(key).__name__,
                fix="pass keys=[ScanKey(...)]",
            )
    return keys


@attrs.frozen(kw_only=True)
class StaffScan:
    """Proof for a Staff-Scan voucher: the scanned token, checked with the business's keys."""

    token: str = attrs.field(repr=False, validator=instance_of(str, hint="pass the scanned text"))
    keys: tuple[ScanKey, ...] = attrs.field(converter=_key_tuple, repr=False)
    by: str = attrs.field(default="staff", validator=_by)


Proof = SelfRedeem | CodeEntry | StaffScan
_SERIAL = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PROOF_FOR = {
    RedemptionMethod.SELF_REDEEM: SelfRedeem,
    RedemptionMethod.STAFF_SCAN: StaffScan,
    RedemptionMethod.REDEEM_CODE: CodeEntry,
}


def _serial(instance: object, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _SERIAL.fullmatch(value):
        raise ValidationError(
            "must be 1-64 characters of A-Z a-z 0-9 _ -",
            field=attribute.name,
            value=value,
            fix="use the serial walletvoucher made for the voucher",
        )


@attrs.frozen(kw_only=True)
class Voucher:
    """A reward earned on a card, redeemed once.

    Build vouchers by adding stamps to a :class:`~walletvoucher.StampCard`; each transition returns a
    new voucher and the events that record it.
    """

    serial: str = attrs.field(validator=_serial)
    card_serial: str = attrs.field(validator=identifier)
    program_id: str = attrs.field(validator=identifier)
    program_version: int = attrs.field(validator=positive)
    reward: Reward = attrs.field(validator=instance_of(Reward))
    method: RedemptionMethod = attrs.field(validator=instance_of(RedemptionMethod))
    code: RedeemCode | None = attrs.field(default=None, validator=instance_of(RedeemCode, optional=True))
    status: VoucherStatus = attrs.field(default=VoucherStatus.ISSUED, validator=instance_of(VoucherStatus))
    issued_at: datetime = attrs.field(validator=aware)
    valid_from: datetime = attrs.field(validator=aware)
    expires_at: datetime | None = attrs.field(default=None, validator=aware)
    redeemed_at: datetime | None = attrs.field(default=None, validator=aware)
    redeemed_by: str | None = attrs.field(default=None, validator=optional_text)
    void_reason: str | None = attrs.field(default=None, validator=optional_text)
    milestone: int | None = attrs.field(default=None, validator=positive)
    """The stamps of the milestone that issued it (None: the program's main reward at the goal)."""

    def __attrs_post_init__(self) -> None:
        if (self.method is RedemptionMethod.REDEEM_CODE) != (self.code is not None):
            raise ValidationError(
                "a redeem code is required for Redeem Code vouchers, and only for them",
                field="code",
                value=self.code,
                fix="give a code with method=REDEEM_CODE, none otherwise",
            )
        if self.expires_at is not None and self.expires_at <= self.valid_from:
            raise ValidationError(
                "must be after valid_from",
                field="expires_at",
                value=self.expires_at,
                fix="check the program's validity",
            )

    def status_at(self, at: datetime) -> VoucherStatus:
        """The status at *at*: stored final states, else derived from the validity window."""
        check_at(at)
        if self.status.is_final:
            return self.status
        if self.expires_at is not None and at >= self.expires_at:
            return VoucherStatus.EXPIRED
        return VoucherStatus.ISSUED if at < self.valid_from else VoucherStatus.ACTIVE

    def redeem(self, proof: Proof, *, at: datetime) -> tuple[Voucher, tuple[Event, ...]]:
        """Redeem the voucher once. Raises if it is not redeemable or the proof does not fit.

        >>> from datetime import datetime, timezone
        >>> t = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
        >>> v = Voucher(serial="C1-1", card_serial="C1", program_id="p", program_version=1,
        ...             reward=Reward(title="Free coffee", description="Any size"),
        ...             method=RedemptionMethod.SELF_REDEEM, issued_at=t, valid_from=t)
        >>> redeemed, events = v.redeem(SelfRedeem(), at=t)
        >>> redeemed.status, events[0].type
        (<VoucherStatus.REDEEMED: 'redeemed'>, <EventType.VOUCHER_REDEEMED: 'voucher_redeemed'>)
        >>> redeemed.redeem(SelfRedeem(), at=t)
        Traceback (most recent call last):
        ...
        walletvoucher.errors.VoucherAlreadyRedeemed: voucher='C1-1': was already redeemed at \
2026-05-07T10:30:00+00:00 by 'customer'. Fix: a reward is redeemed once; do not accept it again
        """
        done = self._redeemed(proof, at)
        return done, (self._event(EventType.VOUCHER_REDEEMED, at, by=proof.by),)

    def _redeemed(self, proof: Proof, at: datetime) -> Voucher:
        """The voucher redeemed with *proof* at *at*, once both are checked (what :meth:`redeem` returns)."""
        self._check_redeemable(at)  # checks *at* (check_at)
        self._check_proof(proof, at)
        if type(self) is not Voucher:
            return attrs.evolve(self, status=VoucherStatus.REDEEMED, redeemed_at=at, redeemed_by=proof.by)
        # What the constructor would check again: the one value from outside, the proof's name.
        optional_text(self, _VOUCHER_FIELDS["redeemed_by"], proof.by)
        return _redeemed_copy(self, VoucherStatus.REDEEMED, at, proof.by)

    def expire(self, *, at: datetime) -> tuple[Voucher, tuple[Event, ...]]:
        """Mark the voucher expired; only once its expiry has passed."""
        self._check_not_final(at)
        if self.status_at(at) is not VoucherStatus.EXPIRED:
            raise TransitionError(
                "has not reached its expiry",
                field="voucher",
                value=self.serial,
                fix=f"expire it at or after {self.expires_at}"
                if self.expires_at
                else "this voucher never expires; void it instead",
            )
        done = _expired_copy(self, VoucherStatus.EXPIRED) if type(self) is Voucher else attrs.evolve(
            self, status=VoucherStatus.EXPIRED)
        return done, (self._event(EventType.VOUCHER_EXPIRED, at),)

    def void(self, reason: str, *, at: datetime) -> tuple[Voucher, tuple[Event, ...]]:
        """Withdraw the voucher (fraud, refund, mistake); it can never be redeemed."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("must say why", field="reason", value=reason, fix="give a short reason")
        self._check_not_final(at)
        # *reason* is a str, as the void_reason field checks.
        done = _voided_copy(self, VoucherStatus.VOIDED, reason) if type(self) is Voucher else attrs.evolve(
            self, status=VoucherStatus.VOIDED, void_reason=reason)
        return done, (self._event(EventType.VOUCHER_VOIDED, at, reason=reason),)

    def _check_not_final(self, at: datetime) -> None:
        check_at(at)
        if self.status is VoucherStatus.REDEEMED:
            raise VoucherAlreadyRedeemed(
                "was already redeemed",
                field="voucher",
                value=self.serial,
                fix="a redeemed voucher cannot change",
            )
        if self.status.is_final:
            raise TransitionError(
                f"is already {self.status.value}",
                field="voucher",
                value=self.serial,
                fix="a final voucher cannot change",
            )

    def _check_redeemable(self, at: datetime) -> None:
        status = self.status_at(at)
        if status is VoucherStatus.REDEEMED:
            raise VoucherAlreadyRedeemed(
                f"was already redeemed at {self.redeemed_at.isoformat() if self.redeemed_at else '?'}"
                f" by {self.redeemed_by!r}",
                field="voucher",
                value=self.serial,
                fix="a reward is redeemed once; do not accept it again",
            )
        if status is VoucherStatus.VOIDED:
            raise VoucherVoided(
                f"was voided ({self.void_reason})", field="voucher", value=self.serial, fix="do not accept it"
            )
        if status is VoucherStatus.EXPIRED:
            raise VoucherExpired(
                f"expired at {self.expires_at.isoformat() if self.expires_at else '?'}",
                field="voucher",
                value=self.serial,
                fix="do not accept it",
            )
        if status is VoucherStatus.ISSUED:
            raise VoucherNotYetValid(
                f"is valid from {self.valid_from.isoformat()}",
                field="voucher",
                value=self.serial,
                fix="redeem it on or after that time",
            )

    def _check_proof(self, proof: Proof, at: datetime) -> None:
        wanted = _PROOF_FOR[self.method]
        if not isinstance(proof, wanted):
            raise ProofMismatch(
                f"is a {self.method.value} voucher and cannot be redeemed with {type(proof).__name__}",
                field="proof",
                value=type(proof).__name__,
                fix=f"redeem it with {wanted.__name__}(...)",
            )
        if isinstance(proof, CodeEntry):
            self._check_code(proof.code)
        elif isinstance(proof, StaffScan):
            claims = verify_scan_token(proof.token, keys=proof.keys, at=at)
            if claims.voucher_serial != self.serial:
                raise WrongRedeemCode(
                    "the scanned token belongs to another voucher",
                    field="token",
                    value=claims.voucher_serial,
                    fix="scan this voucher's own code",
                )

    def _check_code(self, typed: str) -> None:
        assert self.code is not None
        if self.code.origin is CodeOrigin.GENERATED:
            ok = codes_match(self.code.value, typed)
        else:
            ok = "".join(str(typed).split()) == "".join(self.code.value.split())
        if not ok:
            raise WrongRedeemCode(
                "is not this voucher's code",
                field="code",
                value=typed,
                fix="check the code shown on the voucher; do not accept a different one",
            )

    def _event(self, kind: EventType, at: datetime, **data: Any) -> Event:
        # Every caller checked *at*; the voucher's card serial was checked when it was made.
        return trusted_event(kind, at, self.card_serial, freeze({"voucher": self.serial, **data}), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (rebuild with :meth:`from_json`)."""
        expires_at, redeemed_at, milestone = self.expires_at, self.redeemed_at, self.milestone
        raw = {
            "serial": self.serial,
            "card_serial": self.card_serial,
            "program_id": self.program_id,
            "program_version": self.program_version,
            "method": self.method._value_,
            "code": self.code.to_dict() if self.code else None,
            "status": self.status._value_,
            "issued_at": self.issued_at.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "expires_at": expires_at.isoformat() if expires_at else None,
            "redeemed_at": redeemed_at.isoformat() if redeemed_at else None,
            "redeemed_by": self.redeemed_by,
            "void_reason": self.void_reason,
            "reward": self.reward.to_json(),
        }
        if milestone is not None:
            raw["milestone"] = milestone
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Voucher:
        """Rebuild a voucher from :meth:`to_json` output; anything else raises :class:`ReplayError`."""
        if not isinstance(raw, Mapping):
            raise ReplayError("is not a voucher (not a JSON object)", field="voucher",
                              value=type(raw).__name__, fix="pass what Voucher.to_json() produced")
        try:
            return cls._from_mapping(raw)
        except (KeyError, ValueError, TypeError) as exc:  # ValidationError is a ValueError
            reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)[:200]
            raise ReplayError(
                f"is not a voucher ({reason})",
                field="voucher",
                value=_serial_preview(raw.get("serial")),
                fix="pass what Voucher.to_json() produced",
            ) from exc

    @classmethod
    def _from_mapping(cls, raw: Mapping[str, Any], reward: Reward | None = None) -> Voucher:
        """*reward*: the reward *raw* holds, already built (a store reading many vouchers of one
        program passes the program's own when ``raw["reward"]`` is exactly its JSON).

        The values are read in the constructor's order (so a missing or malformed one raises as it
        always did); when each is of the type and range its field's validator accepts, the voucher
        is made without running the validators again (:func:`voucher_from_values`), otherwise the
        constructor makes it, or raises its error."""
        return voucher_from_values(
            cls,
            raw["serial"],
            raw["card_serial"],
            raw["program_id"],
            raw["program_version"],
            reward if reward is not None else Reward.from_json(raw["reward"]),
            RedemptionMethod(raw["method"]),
            RedeemCode.from_dict(raw["code"]) if raw.get("code") else None,
            VoucherStatus(raw["status"]),
            datetime.fromisoformat(raw["issued_at"]),
            datetime.fromisoformat(raw["valid_from"]),
            _from_iso(raw.get("expires_at")),
            _from_iso(raw.get("redeemed_at")),
            raw.get("redeemed_by"),
            raw.get("void_reason"),
            raw.get("milestone"),
        )


_VOUCHER_FIELDS = {field.name: field for field in attrs.fields(Voucher)}
_redeemed_copy = changer(Voucher, "status", "redeemed_at", "redeemed_by")
_expired_copy = changer(Voucher, "status")
_voided_copy = changer(Voucher, "status", "void_reason")


_VOUCHER_ORDER = tuple(_VOUCHER_FIELDS)
_make_voucher = maker(Voucher, {}, *_VOUCHER_ORDER)


def voucher_from_values(cls: type[Voucher], *values: Any) -> Voucher:
    """``cls(**dict(zip(field names, values)))``: a voucher from one value per field, in the fields'
    order. When *cls* is :class:`Voucher` and every value is one its field's validator accepts --
    checked here by the same rules, without a call per field (the serials' patterns, whole numbers
    in range, aware datetimes, text or None, and the types of the reward, method, code and status) --
    the fields are set directly and only the voucher's own rules (``__attrs_post_init__``) run.
    Anything else goes through the constructor, which returns the same voucher or raises its usual
    error: this way never accepts what the constructor refuses, and never refuses what it accepts.
    """
    (serial, card_serial, program_id, program_version, reward, method, code, status, issued_at,
     valid_from, expires_at, redeemed_at, redeemed_by, void_reason, milestone) = values
    if (
        cls is Voucher
        and isinstance(serial, str) and _SERIAL.fullmatch(serial) is not None
        and isinstance(card_serial, str) and _IDENT.fullmatch(card_serial) is not None
        and isinstance(program_id, str) and _IDENT.fullmatch(program_id) is not None
        and type(program_version) is int and program_version >= 1
        and isinstance(reward, Reward)
        and isinstance(method, RedemptionMethod)
        and (code is None or isinstance(code, RedeemCode))
        and isinstance(status, VoucherStatus)
        and is_aware(issued_at) and is_aware(valid_from)
        and (expires_at is None or is_aware(expires_at))
        and (redeemed_at is None or is_aware(redeemed_at))
        and (redeemed_by is None or isinstance(redeemed_by, str))
        and (void_reason is None or isinstance(void_reason, str))
        and (milestone is None or (type(milestone) is int and milestone >= 1))
    ):
        voucher = _make_voucher(*values)
        voucher.__attrs_post_init__()
        return voucher
    return cls(**dict(zip(_VOUCHER_ORDER, values, strict=True)))


def _serial_preview(serial: object) -> str:
    return serial[:64] if isinstance(serial, str) else f"<{type(serial).__name__}>"


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
