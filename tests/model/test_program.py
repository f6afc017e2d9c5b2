from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from walletvoucher import (
    Brand,
    Color,
    EarnPolicy,
    LocalizedText,
    Money,
    Reward,
    Validity,
    WalletVoucherError,
)
from walletvoucher.errors import ValidationError

from .conftest import T0, make_program


def test_program_languages_collect_every_translation_default_first() -> None:
    program = make_program(
        name=LocalizedText(default="Coffee card", translations={"zh-Hans": "咖啡卡", "hi": "कॉफ़ी कार्ड"}),
        reward=Reward(
            title=LocalizedText(default="Free coffee", translations={"th": "กาแฟฟรี", "uz": "Bepul qahva"}),
            description="Any size",
        ),
    )
    assert program.languages == ("en", "hi", "th", "uz", "zh-Hans")


def test_localized_text_falls_back_to_default() -> None:
    text = LocalizedText(default="Stamps", translations={"uz": "Muhrlar"})
    assert text.get("uz") == "Muhrlar"
    assert text.get("th") == "Stamps"
    assert text.get(None) == "Stamps"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"goal": 0}, "goal"),
        ({"goal": True}, "goal"),
        ({"id": "has space"}, "id"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"default_language": "English"}, "default_language"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_program_fields_name_field_value_and_fix(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_program(**changes)
    assert info.value.field == field
    assert "Fix:" in str(info.value)
    assert isinstance(info.value, WalletVoucherError)


@pytest.mark.parametrize("bad", ["red", "#12345", "#GGGGGG", 12])
def test_bad_colour_is_rejected(bad: object) -> None:
    with pytest.raises(ValidationError, match="#RRGGBB"):
        Color.parse(bad)  # type: ignore[arg-type]


def test_colour_forms() -> None:
    assert Color.parse("1e3a5f").css_rgb == "rgb(30, 58, 95)"
    assert Color.parse("#1E3A5F").hex == "#1E3A5F"


def test_brand_images_must_be_png() -> None:
    with pytest.raises(ValidationError, match="PNG"):
        Brand(name="K", foreground="#FFFFFF", background="#000000", label="#FFFFFF", logo=b"GIF89a....")


def test_money_checks_currency_and_amount() -> None:
    assert Money(amount="4.50", currency="UZS").amount == Decimal("4.50")
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money(amount="1", currency="usd")
    with pytest.raises(ValidationError, match="amount"):
        Money(amount="-1", currency="USD")
    with pytest.raises(ValidationError, match="not a number"):
        Money(amount="abc", currency="USD")


def test_localized_text_rejects_bad_language_and_empty_text() -> None:
    with pytest.raises(ValidationError, match="BCP 47"):
        LocalizedText(default="x", translations={"Chinese": "咖啡"})
    with pytest.raises(ValidationError, match="non-empty"):
        LocalizedText(default="   ")
    with pytest.raises(ValidationError, match="control"):
        LocalizedText(default="a\x00b")


def test_validity_windows() -> None:
    assert Validity.unlimited().window(T0) == (T0, None)
    assert Validity.for_days(30).window(T0) == (T0, T0 + timedelta(days=30))
    end = datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert Validity.fixed(end, start_delay=timedelta(hours=2)).window(T0) == (T0 + timedelta(hours=2), end)
    with pytest.raises(ValidationError, match="timezone-aware"):
        Validity.fixed(datetime(2026, 12, 31))
    with pytest.raises(ValidationError, match="negative"):
        Validity.for_days(3, start_delay=timedelta(hours=-1))
    with pytest.raises(ValidationError, match="not both"):
        Validity(days=3, until=end)


def test_earn_policy_limits_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="max_per_day"):
        EarnPolicy(max_per_day=0)
    with pytest.raises(ValidationError, match="min_interval"):
        EarnPolicy(min_interval=timedelta(0))


def test_revise_bumps_version_and_revalidates() -> None:
    program = make_program()
    assert program.revise(goal=8).version == 2
    with pytest.raises(ValidationError):
        program.revise(goal=-1)
