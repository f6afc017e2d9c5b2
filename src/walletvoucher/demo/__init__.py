"""The demo: walks the model as a user would and writes every artefact with an ``index.json``.

``walletvoucher demo --out DIR`` calls :func:`write_demo`. The demo clock and randomness are fixed
(seeded), so two runs write the same files (the PKCS#7 signing time and freshly minted keys aside).

``DIR/index.json`` is stable and documented in the README::

    {
      "format": "walletvoucher-demo/1",
      "clock": "2026-05-07T10:30:00+00:00",
      "entries": [
        {"name": ..., "kind": "stamp_card" | "voucher" | "code_image" | "events",
         "path": <relative to DIR>, "format": "json" | "png" | "svg" | "pkpass", "item": <demo item>,
         ... kind-specific keys: "value" and "symbology" for code images,
         "redeem_code", "symbology", "method", "status" for vouchers}
      ],
      ... top-level keys added by the renderers ("apple_root_ca", "google_service_account")
    }
"""

from __future__ import annotations

import json
import random as _random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

from walletvoucher.codes import (
    CodePool,
    RandomSource,
    ScanKey,
    Symbology,
    issue_scan_token,
    pos_code,
    render_png,
    render_svg,
)
from walletvoucher.errors import SymbologyError
from walletvoucher.model import (
    Brand,
    Channel,
    CodeEntry,
    Event,
    LocalizedText,
    Milestone,
    Money,
    PerCard,
    Program,
    RedemptionContext,
    RedemptionMethod,
    Reward,
    SelfRedeem,
    StampCard,
    StampExpiry,
    TimeWindow,
    Validity,
    Voucher,
    events_to_json,
)

CLOCK = datetime(2026, 5, 7, 10, 30, tzinfo=timezone.utc)
"""The demo's fixed clock."""

LANGUAGES = ("en", "zh-Hans", "hi", "th", "uz")
IMAGE_SYMBOLOGIES = (
    Symbology.QR,
    Symbology.CODE_128,
    Symbology.EAN_13,
    Symbology.UPC_A,
    Symbology.PDF417,
    Symbology.AZTEC,
)


def seeded_random(seed: int) -> RandomSource:
    """A reproducible random source for the demo and tests only (never for real codes or keys)."""
    rng = _random.Random(seed)
    return rng.randbytes


DEMO_SCAN_KEY = ScanKey(key_id="demo", secret=seeded_random(1)(32))
"""The demo's Staff-Scan key: a published secret, for the demo only."""


@attrs.frozen(kw_only=True)
class DemoItem:
    """One card or voucher the demo shows, at one moment, for the renderers to turn into passes."""

    name: str
    kind: str  # "stamp_card" or "voucher"
    card: StampCard
    voucher: Voucher | None = None  # set for kind == "voucher": shown as its own pass
    at: datetime = CLOCK
    language: str | None = None
    scan_key: ScanKey = DEMO_SCAN_KEY


def _t(en: str, zh: str, hi: str, th: str, uz: str) -> LocalizedText:
    return LocalizedText(default=en, translations={"zh-Hans": zh, "hi": hi, "th": th, "uz": uz})


def demo_brand() -> Brand:
    """The demo café's brand."""
    return Brand(
        name=_t("Kahve Café", "卡赫咖啡馆", "काहवे कैफ़े", "คาห์เว คาเฟ่", "Kahve kafe"),
        foreground="#FFFFFF",
        background="#1E3A5F",
        label="#F2C14E",
    )


def demo_program(
    redemption: RedemptionMethod, *, program_id: str | None = None, symbology: Symbology = Symbology.QR
) -> Program:
    """A goal-10 program in five languages that issues vouchers redeemed by *redemption*."""
    return Program(
        id=program_id or f"coffee-{redemption.value.replace('_', '-')}",
        name=_t(
            "Coffee stamp card", "咖啡集章卡", "कॉफ़ी स्टैम्प कार्ड", "บัตรสะสมแสตมป์กาแฟ", "Qahva muhr kartasi"
        ),
        brand=demo_brand(),
        goal=10,
        reward=Reward(
            title=_t("Free coffee", "免费咖啡", "मुफ़्त कॉफ़ी", "กาแฟฟรี", "Bepul qahva"),
            description=_t(
                "Any size, any drink",
                "任意杯型和饮品",
                "कोई भी साइज़, कोई भी पेय",
                "ทุกขนาด ทุกเมนู",
                "Istalgan o'lcham, istalgan ichimlik",
            ),
            value=Money(amount="4.50", currency="USD"),
            terms=_t(
                "One per visit",
                "每次限用一张",
                "प्रति विज़िट एक",
                "ใช้ได้หนึ่งครั้งต่อการมาเยือน",
                "Har tashrifda bitta",
            ),
        ),
        redemption=redemption,
        validity=Validity.for_days(30),
        timezone="Asia/Tashkent",
        code_symbology=symbology,
        stamp_label=_t("Stamps", "印章", "स्टैम्प", "แสตมป์", "Muhrlar"),
    )


@attrs.frozen(kw_only=True)
class DemoStory:
    """Everything the demo walked through: the items to render and each card's event log."""

    items: tuple[DemoItem, ...]
    events: tuple[Event, ...]


def build_story() -> DemoStory:
    """Walk the model: cards at 0, 7 and 12 stamps, reward ready, redeemed, and one voucher per method."""
    rng = seeded_random(2026)
    main = demo_program(RedemptionMethod.REDEEM_CODE)
    card, events = StampCard.issue(main, serial="DEMO-CARD-1", member_id="member-1", at=CLOCK)
    log: list[Event] = list(events)
    items = [DemoItem(name="card-0-stamps", kind="stamp_card", card=card)]
    seven = card.add_stamps(7, at=CLOCK + timedelta(minutes=1), source="staff", random=rng)
    log += seven.events
    items.append(
        DemoItem(name="card-7-stamps", kind="stamp_card", card=seven.card, at=CLOCK + timedelta(minutes=1))
    )
    items += [
        DemoItem(
            name=f"card-7-stamps-{lang}",
            kind="stamp_card",
            card=seven.card,
            language=lang,
            at=CLOCK + timedelta(minutes=1),
        )
        for lang in LANGUAGES[1:]
    ]
    ready_at = CLOCK + timedelta(minutes=2)
    ready = seven.card.add_stamps(5, at=ready_at, source="kiosk", random=rng)
    log += ready.events
    items.append(
        DemoItem(name="card-12-stamps-reward-ready", kind="stamp_card", card=ready.card, at=ready_at)
    )
    voucher = ready.vouchers[0]
    assert voucher.code is not None
    done_at = CLOCK + timedelta(hours=1)
    redeemed = ready.card.redeem(voucher.serial, CodeEntry(code=voucher.code.value, by="till-1"), at=done_at)
    log += redeemed.events
    items.append(DemoItem(name="card-after-redemption", kind="stamp_card", card=redeemed.card, at=done_at))
    items.append(
        DemoItem(name="voucher-redeem-code", kind="voucher", card=ready.card, voucher=voucher, at=ready_at)
    )
    items.append(
        DemoItem(
            name="voucher-redeem-code-redeemed",
            kind="voucher",
            card=redeemed.card,
            voucher=redeemed.voucher,
            at=done_at,
        )
    )
    for item, item_events in _other_methods(rng):
        items.append(item)
        log += item_events
    single, single_events = _single_language_card()
    items.append(single)
    log += single_events
    lunch, lunch_events = _lunch_card()
    items.append(lunch)
    log += lunch_events
    return DemoStory(items=tuple(items), events=tuple(log))


def lunch_program() -> Program:
    """The second story's program (issue 16): a free cookie at 3 stamps on the way to a free lunch at 9,
    stamps that lapse 30 days after the last one (warned a week ahead), and a cookie redeemed only at
    lunchtime, at the Chilonzor branch."""
    lunchtime = RedemptionContext(locations=("chilonzor",), channels=(Channel.IN_STORE,),
                                  windows=(TimeWindow(days="mon-fri", start="12:00", end="14:00"),),
                                  per_card=PerCard.ONE_PER_DAY)
    cookie = Reward(title=_t("Free cookie", "免费饼干", "मुफ़्त कुकी", "คุกกี้ฟรี", "Bepul pechenye"),
                    description=_t("With any lunch", "随任意午餐", "किसी भी लंच के साथ", "กับมื้อกลางวันใดก็ได้",
                                   "Istalgan tushlik bilan"),
                    context=lunchtime)
    return attrs.evolve(
        demo_program(RedemptionMethod.SELF_REDEEM, program_id="lunch"), goal=9,
        milestones=(Milestone(at=3, reward=cookie, redemption=RedemptionMethod.SELF_REDEEM),),
        stamp_expiry=StampExpiry.rolling(30, warn_days=7),
    )


def _lunch_card() -> tuple[DemoItem, tuple[Event, ...]]:
    """A milestone card with rolling stamp expiry: the cookie earned at 3 stamps and redeemed at lunchtime."""
    program = lunch_program()
    card, issued = StampCard.issue(program, serial="DEMO-LUNCH-1", member_id="member-7", at=CLOCK)
    stamped = card.add_stamps(4, at=CLOCK, source="staff")  # 15:30 in Tashkent
    cookie = stamped.vouchers[0]
    lunch_at = datetime(2026, 5, 8, 12, 30, tzinfo=program.zone)
    redeemed = stamped.card.redeem(cookie.serial, SelfRedeem(), at=lunch_at, location="chilonzor",
                                   channel=Channel.IN_STORE)
    item = DemoItem(name="card-4-stamps-milestone-lunch", kind="stamp_card", card=redeemed.card, at=lunch_at)
    return item, (*issued, *stamped.events, *redeemed.events)


def _single_language_card() -> tuple[DemoItem, tuple[Event, ...]]:
    """An English-only card: small enough for a Google save link that carries its class."""
    program = Program(
        id="coffee-en",
        name="Coffee stamp card",
        brand=Brand(name="Kahve Café", foreground="#FFFFFF", background="#1E3A5F", label="#F2C14E"),
        goal=10,
        reward=Reward(title="Free coffee", description="Any size, any drink"),
        redemption=RedemptionMethod.SELF_REDEEM,
        validity=Validity.for_days(30),
    )
    card, issued = StampCard.issue(program, serial="DEMO-EN-1", member_id="m-6", at=CLOCK)
    result = card.add_stamps(7, at=CLOCK, source="staff")
    item = DemoItem(name="card-7-stamps-english-only", kind="stamp_card", card=result.card)
    return item, issued + result.events


def _other_methods(rng: RandomSource) -> list[tuple[DemoItem, tuple[Event, ...]]]:
    pool = CodePool(["590123412345", "590123412352"], Symbology.EAN_13)
    plans: list[tuple[str, Program, dict[str, Any]]] = [
        ("voucher-self-redeem", demo_program(RedemptionMethod.SELF_REDEEM), {}),
        ("voucher-staff-scan", demo_program(RedemptionMethod.STAFF_SCAN), {}),
        (
            "voucher-pos-ean13",
            demo_program(RedemptionMethod.REDEEM_CODE, program_id="coffee-pos", symbology=Symbology.EAN_13),
            {"codes": pool},
        ),
        (
            "voucher-pos-upca",
            demo_program(
                RedemptionMethod.REDEEM_CODE, program_id="coffee-pos-upc", symbology=Symbology.UPC_A
            ),
            {"codes": CodePool(["03600029145"], Symbology.UPC_A)},
        ),
    ]
    out = []
    for index, (name, program, extra) in enumerate(plans, start=2):
        card, issued = StampCard.issue(
            program, serial=f"DEMO-CARD-{index}", member_id=f"member-{index}", at=CLOCK
        )
        result = card.add_stamps(10, at=CLOCK, source="scanner", random=rng, **extra)
        item = DemoItem(name=name, kind="voucher", card=result.card, voucher=result.vouchers[0])
        out.append((item, issued + result.events))
    return out


RendererHook = Callable[[Sequence[DemoItem], Path, list[dict[str, Any]]], dict[str, str]]
"""Adds files and entry keys for the demo items; returns top-level index keys."""
PageHook = Callable[[Sequence[DemoItem], Path, dict[str, Any]], dict[str, str]]
"""Runs once every renderer has: sees the whole index (e.g. to write the gallery); returns top-level keys."""


def write_demo(
    out_dir: Path, *, renderers: Sequence[RendererHook] = (), pages: Sequence[PageHook] = ()
) -> dict[str, Any]:
    """Write the demo into *out_dir* and return the index (also written to ``index.json``).

    *renderers* add wallet passes, links and previews to the entries; *pages* then see the whole
    index (the gallery, ``index.html``). The command line passes all of them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    story = build_story()
    entries = _write_model(story, out_dir) + _write_code_images(story, out_dir)
    index: dict[str, Any] = {"format": "walletvoucher-demo/1", "clock": CLOCK.isoformat(), "entries": entries}
    for hook in renderers:
        index.update(hook(story.items, out_dir, entries))
    for page in pages:
        index.update(page(story.items, out_dir, index))
    (out_dir / "index.json").write_text(
        json.dumps(index, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    return index


def _write_json(out_dir: Path, rel: str, data: Any) -> str:
    path = out_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return rel


def _write_model(story: DemoStory, out_dir: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for item in story.items:
        if item.voucher is None:
            data: dict[str, Any] = item.card.to_json()
            extra: dict[str, Any] = {"stamps": item.card.stamps, "goal": item.card.goal}
        else:
            data = item.voucher.to_json()
            extra = _voucher_keys(item.voucher, item.at)
        rel = _write_json(out_dir, f"model/{item.name}.json", data)
        entries.append(
            {
                "name": item.name,
                "item": item.name,
                "kind": item.kind,
                "path": rel,
                "format": "json",
                "language": item.language,
                **extra,
            }
        )
    rel = _write_json(out_dir, "model/events.json", json.loads(events_to_json(list(story.events))))
    entries.append({"name": "events", "kind": "events", "path": rel, "format": "json"})
    return entries


def _voucher_keys(voucher: Voucher, at: datetime) -> dict[str, Any]:
    keys: dict[str, Any] = {"method": voucher.method.value, "status": voucher.status_at(at).value}
    if voucher.code is not None:
        keys.update(redeem_code=voucher.code.value, symbology=voucher.code.symbology.value)
    return keys


def _code_values(story: DemoStory) -> list[tuple[str, str, tuple[Symbology, ...]]]:
    """(name, value, symbologies) for every redeem code and Staff-Scan token the demo shows."""
    values: dict[str, tuple[str, str, tuple[Symbology, ...]]] = {}
    for item in story.items:
        voucher = item.voucher
        if voucher is None or voucher.serial in values:
            continue
        if voucher.code is not None:
            values[voucher.serial] = (f"code-{voucher.serial}", voucher.code.value, IMAGE_SYMBOLOGIES)
        elif voucher.method is RedemptionMethod.STAFF_SCAN:
            token = issue_scan_token(voucher.serial, expires_at=voucher.expires_at, key=item.scan_key)
            values[voucher.serial] = (f"scan-token-{voucher.serial}", token, (Symbology.QR, Symbology.AZTEC))
    return list(values.values())


def _carries(value: str, symbology: Symbology) -> bool:
    """Whether *symbology* shows *value* unchanged (12 digits as EAN-13 would gain a check digit)."""
    try:
        return pos_code(value, symbology).value == value
    except SymbologyError:
        return False


def _write_code_images(story: DemoStory, out_dir: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name, value, symbologies in _code_values(story):
        for symbology in symbologies:
            if not _carries(value, symbology):
                continue
            for fmt, render in (("png", render_png), ("svg", render_svg)):
                rel = f"codes/{name}.{symbology.value}.{fmt}"
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (out_dir / rel).write_bytes(render(value, symbology))
                entries.append(
                    {
                        "name": f"{name}.{symbology.value}.{fmt}",
                        "kind": "code_image",
                        "path": rel,
                        "format": fmt,
                        "value": value,
                        "symbology": symbology.value,
                    }
                )
    return entries


__all__ = [
    "CLOCK",
    "DEMO_SCAN_KEY",
    "DemoItem",
    "DemoStory",
    "PageHook",
    "RendererHook",
    "build_story",
    "demo_program",
    "write_demo",
]
