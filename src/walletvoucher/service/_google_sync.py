"""Google objects that follow the card: an outbox effect, and the handler that brings the object in step.

The effect (:func:`google_sync_effect`) runs inside the store's transaction and queues one
``google.sync`` message per change that alters what the Google object shows (stamps, redemptions,
expiry, voids, a program change). The message says *which* card changed and what the change asks
for (notify the holder? add a "reward ready" message?), never *what* to show: the handler
(:class:`GoogleSync`) reads the card's **current** state from the store when it sends, so retries,
duplicates and messages handled out of order all converge on the same object.

The handler sends with the full-replace path (``WalletRestClient.replace``: GET, then PUT of the
whole object, keeping messages added earlier), so fields the new state no longer has go away: a
redeemed voucher's barcode, the reward link and rewards row of a card back to collecting. Stamp
changes ask Google to notify the holder within its budget of 3 per pass per 24 hours, kept in the
store (``wallet.google``); past it the object is still updated, without notifying. ``warn_days``
before a card's stamps lapse, a queued sync adds a message instead (:meth:`GoogleSync.warn_of_lapse`:
``TEXT_AND_NOTIFY`` within the same budget, ``TEXT`` past it, shown until the stamps lapse). Classes are
inserted once per program version (replaced, not patched, when a new version changes them: a
text the new version dropped leaves the class) and recorded in the store; save links of a recorded class carry
only the object (:meth:`GoogleSync.save_link`).

Failures raise (the outbox worker then retries the message later): a
:class:`~walletvoucher.errors.GoogleApiError` for 429/5xx carries ``retry_after``, the seconds
Google asked for, which :func:`sync_retry_delay` honours up to a cap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from walletvoucher.errors import ValidationError
from walletvoucher.google._credentials import ServiceAccountCredentials
from walletvoucher.google._labels import with_built_in_words
from walletvoucher.google._objects import (
    CLASS_FIELDS,
    card_object_id,
    localized_string,
    loyalty_class,
    loyalty_object,
    offer_class,
    offer_object,
)
from walletvoucher.google._options import GoogleOptions, VoucherDisplay
from walletvoucher.google._recipe import render_pieces, save_link
from walletvoucher.google._rest import Resource, WalletRestClient, message_id_for
from walletvoucher.google._savelink import SaveLink
from walletvoucher.model import Event, EventType, LocalizedText, Program, StampCard, Voucher
from walletvoucher.service._worker import retry_delay
from walletvoucher.store import Change, Effect, Message, OutboxMessage, Wallet

__all__ = ["GOOGLE_SYNC_TOPIC", "GoogleSync", "google_sync_effect", "sync_retry_delay"]

GOOGLE_SYNC_TOPIC = "google.sync"
"""The outbox topic of Google object updates (map it to a :class:`GoogleSync` in the worker)."""

_VOUCHER_EVENTS = (
    EventType.VOUCHER_ISSUED,
    EventType.VOUCHER_REDEEMED,
    EventType.VOUCHER_EXPIRED,
    EventType.VOUCHER_VOIDED,
)


def google_sync_effect(*, notify_on: Iterable[str] = ("stamp",), on_issue: bool = False) -> Effect:
    """The effect hook that queues a ``google.sync`` message for every change the Google object shows.

    *notify_on*: the store actions whose update asks Google to notify the holder (stamps by
    default; the budget decides at send time). *on_issue*: also sync a newly issued card (inserting
    its object through the REST API); off by default, since a new card reaches Google through its
    save link.

    >>> from walletvoucher.store import Wallet
    >>> # wallet = Wallet.open(url, programs=[coffee], effects=[google_sync_effect()])
    >>> google_sync_effect()  # doctest: +ELLIPSIS
    <function google_sync_effect.<locals>.effect at ...>
    """
    notify = frozenset(notify_on)

    def effect(change: Change) -> Iterator[Message]:
        if not change.events or (change.action == "issue" and not on_issue):
            return
        yield Message(topic=GOOGLE_SYNC_TOPIC, payload=sync_payload(change, notify=change.action in notify))
        warning = lapse_warning(change)
        if warning is not None:
            yield warning

    return effect


def sync_payload(change: Change, *, notify: bool) -> dict[str, Any]:
    """What a ``google.sync`` message carries: the card, the change's key, and what it asks for."""
    serial = change.card.serial
    vouchers: list[str] = []
    messages: list[dict[str, str]] = []
    for event, position in zip(change.events, change.positions, strict=True):
        if event.type not in _VOUCHER_EVENTS:
            continue
        voucher = _voucher_serial(event)
        if voucher not in vouchers:
            vouchers.append(voucher)
        if event.type is EventType.VOUCHER_ISSUED:  # "reward ready", added once however often sent
            messages.append({"id": message_id_for(event, sequence=position), "voucher": voucher})
    return {
        "serial": serial,
        "action": change.action,
        "key": f"{serial}@{change.positions[-1]}",
        "notify": notify,
        "vouchers": vouchers,
        "messages": messages,
    }


def lapse_warning(change: Change) -> Message | None:
    """A ``google.sync`` due when the card's pass starts to warn that its stamps lapse (``warn_days``
    ahead): the handler updates the object and adds a message (``addMessage``) that notifies the holder
    within the notification budget (:meth:`GoogleSync.warn_of_lapse`). None when the change did not
    move that moment or it has passed."""
    warn, serial = change.card.stamps_warn_at, change.card.serial
    moved = change.before is None or change.before.stamps_warn_at != warn
    if warn is None or warn <= change.at or not moved:
        return None
    payload = {"serial": serial, "action": STAMPS_WARNING, "key": _warning_key(serial, warn),
               "notify": False, "vouchers": [], "messages": []}
    return Message(topic=GOOGLE_SYNC_TOPIC, payload=payload, available_at=warn)


STAMPS_WARNING = "stamps_warning"
"""The ``action`` of the ``google.sync`` message that warns of lapsing stamps."""
_WARNING_PREFIX = "lapse:"  # what a warning message is recorded as "about" (beside voucher serials)


def _warning_key(serial: str, warn: datetime) -> str:
    """The sync key of the warning that starts at *warn*: a new stamp moves *warn*, so a new key."""
    return f"{serial}@warn-{warn.isoformat()}"


def lapse_message(card: StampCard, *, notify: bool) -> dict[str, Any] | None:
    """The Google ``Message`` warning that the card's stamps lapse, shown from its ``warn_days`` ahead
    until they lapse (``displayInterval``), in the program's languages; ``TEXT_AND_NOTIFY`` when
    *notify* (a slot of the notification budget was taken), else ``TEXT``. None without a lapse.
    """
    lapse, warn, program = card.stamps_lapse_at, card.stamps_warn_at, card.program
    if lapse is None or warn is None:
        return None
    shown = lapse.astimezone(program.zone).strftime("%Y-%m-%d %H:%M")  # as the object's text module
    header = with_built_in_words(LocalizedText(default="Stamps expire"), program)
    words = with_built_in_words(LocalizedText(default="Your stamps expire on"), program)
    body = LocalizedText(default=f"{words.default} {shown}",
                         translations={lang: f"{word} {shown}" for lang, word in words.as_dict().items()})
    message: dict[str, Any] = {
        "id": "wv-lapse-" + hashlib.sha256(_warning_key(card.serial, warn).encode()).hexdigest()[:32],
        "header": header.default, "body": body.default,
        "messageType": "TEXT_AND_NOTIFY" if notify else "TEXT",
        "displayInterval": {"start": {"date": warn.astimezone(program.zone).isoformat()},
                            "end": {"date": lapse.astimezone(program.zone).isoformat()}},
    }  # fmt: skip
    for field, text in (("localizedHeader", header), ("localizedBody", body)):
        localized = localized_string(text, program)
        if localized is not None:
            message[field] = localized
    return message


def _voucher_serial(event: Event) -> str:
    data = event.data["voucher"]
    return str(data["serial"] if isinstance(data, Mapping) else data)


def sync_retry_delay(
    error: BaseException,
    attempts: int,
    *,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=1),
) -> timedelta:
    """How long a failed sync waits before its next try: Google's ``Retry-After`` when it gave one,
    else *base* doubled per attempt; never more than *cap*.

    >>> from walletvoucher.errors import GoogleUnavailable
    >>> sync_retry_delay(GoogleUnavailable("429", status=429, retry_after=120.0), 1)
    datetime.timedelta(seconds=120)
    >>> sync_retry_delay(GoogleUnavailable("429", status=429, retry_after=86400.0), 1)
    datetime.timedelta(seconds=3600)
    >>> sync_retry_delay(RuntimeError("down"), 3)
    datetime.timedelta(seconds=120)
    """
    return retry_delay(error, attempts, base=base, cap=cap)


OptionsFor = Callable[[Program], GoogleOptions]
_PASSES = 3


class GoogleSync:
    """The ``google.sync`` handler: ``sync(message, at)`` brings the card's Google object(s) in step.

    *wallet*: the store the card is read from (its current state, at send time) and where classes
    and the notification budget are recorded. *rest*: the REST client; give it ``max_attempts=1``
    so a failing request goes back to the outbox (which waits without holding the worker) instead
    of sleeping in the client. *options*: the Google options, or a function of the program.
    *messages*: add a "reward ready" message (``addMessage``) when a voucher is issued.

    >>> # sync = GoogleSync(wallet, WalletRestClient.from_service_account(key, max_attempts=1), options)
    >>> # drain_outbox(wallet, {GOOGLE_SYNC_TOPIC: sync, ...}, at=now)
    """

    def __init__(
        self,
        wallet: Wallet,
        rest: WalletRestClient,
        options: GoogleOptions | OptionsFor,
        *,
        messages: bool = True,
    ) -> None:
        self._wallet = wallet
        self._rest = rest
        self._options: OptionsFor = options if callable(options) else (lambda _program: options)
        self._messages = messages

    def __repr__(self) -> str:
        return f"GoogleSync(rest={self._rest!r})"

    def __call__(self, message: OutboxMessage, at: datetime) -> None:
        """Handle one ``google.sync`` outbox message; raises (to be retried) when Google fails."""
        payload = _checked(message)
        if payload.get("action") == STAMPS_WARNING and self._messages:
            self.warn_of_lapse(payload["serial"], key=payload["key"], at=at)
            return
        self.sync_card(
            payload["serial"],
            at=at,
            notify_key=payload["key"] if payload.get("notify") else None,
            vouchers=payload.get("vouchers", ()),
            messages=payload.get("messages", ()) if self._messages else (),
        )

    def sync_card(
        self,
        serial: str,
        *,
        at: datetime,
        notify_key: str | None = None,
        vouchers: Iterable[str] = (),
        messages: Iterable[Mapping[str, str]] = (),
    ) -> dict[str, Any]:
        """Bring the card's loyalty object (and, shown separately, its vouchers' offer objects) to the
        card's current state; return the loyalty object as Google stored it.

        *notify_key* asks to notify the holder, within the budget (the key identifies the change, so
        a retry reuses its slot). *messages* (``{"id", "voucher"}``) are added once each, while their
        voucher is still open.

        Two workers may send the same card at once, the older state last. So after sending, the card's
        version is read again: if a change was committed meanwhile, the card is sent again (up to three
        passes; a change still newer has its own message queued).
        """
        touched, key = set(vouchers), notify_key
        for _ in range(_PASSES):
            version = self._wallet.card_info(serial).version
            card = self._wallet.card(serial)
            options = self._options(card.program)
            stored = self._send(card, options, touched, key, at)
            key = None  # a later pass sends a change committed meanwhile, without notifying again
            if self._wallet.card_info(serial).version == version:
                break  # nothing committed while we sent: what Google holds is current
        for wanted in messages:
            self._add_reward_message(card, options, wanted, at)
        return stored

    def warn_of_lapse(self, serial: str, *, key: str, at: datetime) -> dict[str, Any] | None:
        """Bring the object in step (its text module now warns), then add the warning message
        (:func:`lapse_message`), once: ``TEXT_AND_NOTIFY`` while the object's notification budget
        has a slot for *key* (a retry keeps the slot it took), ``TEXT`` past it. Returns the message
        (None when the warning is stale: a stamp since restarted the clock, or the stamps lapsed or
        were used up).
        """
        self.sync_card(serial, at=at)
        card = self._wallet.card(serial)
        warn, lapse = card.stamps_warn_at, card.stamps_lapse_at
        if warn is None or lapse is None or _warning_key(serial, warn) != key or not warn <= at < lapse:
            return None
        object_id = card_object_id(serial, card.program.id, self._options(card.program))
        records = self._wallet.google
        notify = records.take_notification(object_id, key=key, at=at)  # a retry keeps its slot
        message = lapse_message(card, notify=notify)
        assert message is not None  # warn and lapse are set
        records.record_message(object_id, message["id"], voucher=_WARNING_PREFIX + key, at=at)
        # add_message looks for the id on the object first (before each try): added once, however
        # often this message is retried or its reply lost
        self._rest.add_message(Resource.LOYALTY_OBJECT, object_id, message, message_id=message["id"])
        return message

    def _send(
        self, card: StampCard, options: GoogleOptions, touched: set[str], notify_key: str | None, at: datetime
    ) -> dict[str, Any]:
        self.ensure_class(Resource.LOYALTY_CLASS, loyalty_class(card.program, options), card.program, at=at)
        separate = options.voucher_display is VoucherDisplay.SEPARATE
        if separate:
            self._sync_offers(card, options, touched, at)
        body = loyalty_object(card, options, at=at, link_offers=separate)

        def notify() -> bool:  # asked only when the object exists: an insert notifies nobody
            records = self._wallet.google
            return notify_key is not None and records.take_notification(body["id"], key=notify_key, at=at)

        drop = self._stale_messages(card, body["id"], at)
        return self._rest.replace(Resource.LOYALTY_OBJECT, body, notify=notify, drop_messages=drop)

    def _stale_messages(self, card: StampCard, object_id: str, at: datetime) -> list[str]:
        """Our "reward ready" messages whose voucher is no longer open: the full replace drops them."""
        open_now = {v.serial for v in card.vouchers if not v.status_at(at).is_final}
        warn, lapse = card.stamps_warn_at, card.stamps_lapse_at
        if warn is not None and lapse is not None and at < lapse:  # the warning still applies
            open_now.add(_WARNING_PREFIX + _warning_key(card.serial, warn))
        return [
            m for m, voucher in self._wallet.google.messages(object_id).items() if voucher not in open_now
        ]

    def ensure_class(
        self, resource: Resource, body: Mapping[str, Any], program: Program, *, at: datetime
    ) -> bool:
        """Insert (or bring up to date) a class unless the store records it for this program version
        and body; return whether it was sent."""
        class_id = str(body["id"])
        digest = _digest(body)
        records = self._wallet.google
        if records.class_is_current(class_id, program_version=program.version, digest=digest):
            return False
        # insert, or replace on 409 (PUT): a text the new version dropped leaves the class; settings
        # made in the console (fields walletvoucher never writes) are kept
        self._rest.replace_class(resource, body, owned=CLASS_FIELDS)
        records.record_class(class_id, program_version=program.version, digest=digest, at=at)
        return True

    def save_link(
        self,
        item: StampCard | Voucher,
        *,
        credentials: ServiceAccountCredentials,
        at: datetime,
        program: Program | None = None,
    ) -> SaveLink:
        """A save link that carries only the object, its class inserted once per program version.

        The class goes through the REST API the first time (recorded in the store); every link
        after that is the object alone with its ``classId``, falling back to the by-id path only
        when the object alone is over the limit.
        """
        owner = item.program if isinstance(item, StampCard) else program
        if owner is None:
            raise ValidationError(
                "is needed for a voucher's link",
                field="program",
                value=None,
                fix="pass program=card.program",
            )
        options = self._options(owner)
        pieces = render_pieces(item, options=options, at=at, program=program)
        self.ensure_class(pieces.kinds[0], pieces.class_body, owner, at=at)
        return save_link(
            item, credentials=credentials, options=options, at=at, program=program, rest=self._rest,
            class_exists=True,
        )  # fmt: skip

    def _sync_offers(
        self, card: StampCard, options: GoogleOptions, serials: Iterable[str], at: datetime
    ) -> None:
        """The offers this change touched, and every open one (the card links them all)."""
        wanted = set(serials) | {v.serial for v in card.vouchers if not v.status_at(at).is_final}
        if not wanted:
            return
        stored = {v.serial: v for v in self._wallet.vouchers(card_serial=card.serial, limit=10_000)}
        current = {**stored, **{v.serial: v for v in card.vouchers}}  # open ones as the card holds them
        for serial in sorted(wanted & set(current)):
            voucher = current[serial]
            self.ensure_class(
                Resource.OFFER_CLASS, offer_class(voucher, card.program, options), card.program, at=at
            )
            self._rest.replace(Resource.OFFER_OBJECT, offer_object(voucher, card.program, options, at=at))

    def _add_reward_message(
        self, card: StampCard, options: GoogleOptions, wanted: Mapping[str, str], at: datetime
    ) -> None:
        voucher = next((v for v in card.vouchers if v.serial == wanted.get("voucher")), None)
        if voucher is None or voucher.status_at(at).is_final:
            return  # redeemed, voided or expired meanwhile: no "reward ready" any more
        program, reward = card.program, voucher.reward
        message: dict[str, Any] = {"header": reward.title.default, "body": reward.description.default}
        for field, text in (("localizedHeader", reward.title), ("localizedBody", reward.description)):
            localized = localized_string(text, program)
            if localized is not None:
                message[field] = localized
        object_id = card_object_id(card.serial, program.id, options)
        self._wallet.google.record_message(object_id, wanted["id"], voucher=voucher.serial, at=at)
        self._rest.add_message(Resource.LOYALTY_OBJECT, object_id, message, message_id=wanted["id"])


def _digest(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checked(message: OutboxMessage) -> Mapping[str, Any]:
    payload = getattr(message, "payload", None)
    if (
        getattr(message, "topic", None) != GOOGLE_SYNC_TOPIC
        or not isinstance(payload, Mapping)
        or not isinstance(payload.get("serial"), str)
        or not isinstance(payload.get("key"), str)
    ):
        raise ValidationError(
            "is not a google.sync message",
            field="message",
            value=getattr(message, "topic", type(message).__name__),
            fix="map only the 'google.sync' topic to GoogleSync, with messages from google_sync_effect()",
        )
    return payload
