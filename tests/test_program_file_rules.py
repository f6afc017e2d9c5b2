"""The merchants' rules written in program files (issue 16): the public keys, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from walletvoucher.errors import ProgramFileError
from walletvoucher.model import RedemptionMethod
from walletvoucher.programfile import load_program_file

HEAD = """
[program]
id = "lunch"
name = "Lunch card"
goal = 9
redemption = "redeem_code"

[brand]
name = "Kahve"
foreground = "#FFFFFF"
background = "#1E3A5F"
label = "#F2C14E"

[reward]
title = "Free lunch"
description = "Any set"
"""

MILESTONES = """
[[milestones]]
at = 3
reward = { title = "Free cookie" }
redemption = "self_redeem"

[[milestones]]
at = 6
reward = { title = { default = "Free cake", uz = "Bepul tort" }, description = "Any slice" }
redemption = "staff_scan"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lunch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_milestones_are_read_from_their_tables(tmp_path: Path) -> None:
    program = load_program_file(_write(tmp_path, HEAD + MILESTONES)).program
    assert [(m.at, m.reward.title.default, m.redemption) for m in program.milestones] == [
        (3, "Free cookie", RedemptionMethod.SELF_REDEEM), (6, "Free cake", RedemptionMethod.STAFF_SCAN)]
    assert program.milestones[0].reward.description.default == "Free cookie"  # the title when left out
    assert program.languages == ("en", "uz")


@pytest.mark.parametrize(
    ("extra", "where", "says"),
    [
        ('[[milestones]]\nat = 9\nreward = { title = "X" }\nredemption = "self_redeem"\n',
         "milestones[0].at", "below the goal of 9"),
        ('[[milestones]]\nat = 3\nreward = { title = "X" }\nredemption = "self_redem"\n',
         "[milestones[0]] redemption", "is not a known choice"),
        ('[[milestones]]\nat = 3\nrewrd = { title = "X" }\nredemption = "self_redeem"\n',
         "[milestones[0]] rewrd", "is not a key this table knows"),
        ('[[milestones]]\nat = 3\nreward = { titel = "X" }\nredemption = "self_redeem"\n',
         "[milestones[0].reward] titel", "is not a key this table knows"),
        ('[[milestones]]\nreward = { title = "X" }\nredemption = "self_redeem"\n',
         "[milestones[0]] at", "is missing"),
        ('milestones = 3\n', "milestones", "must be a list"),
    ],
)
def test_a_wrong_milestone_names_the_table_and_key(tmp_path: Path, extra: str, where: str, says: str) -> None:
    text = extra + HEAD if extra.startswith("milestones =") else HEAD + extra
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, text))
    assert where in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


def test_stamp_expiry_is_read_from_the_stamps_table(tmp_path: Path) -> None:
    text = HEAD + '\n[stamps]\nexpire = "rolling"\ndays = 90\nwarn_days = 7\n'
    rule = load_program_file(_write(tmp_path, text)).program.stamp_expiry
    assert (rule.expire.value, rule.days, rule.until, rule.warn_days) == ("rolling", 90, None, 7)
    fixed = HEAD + '\n[stamps]\nexpire = "fixed"\nuntil = "2027-03-31T23:59:59+05:00"\n'
    rule = load_program_file(_write(tmp_path, fixed)).program.stamp_expiry
    assert rule.until is not None and rule.until.isoformat() == "2027-03-31T23:59:59+05:00"
    native = HEAD + "\n[stamps]\nexpire = \"fixed\"\nuntil = 2027-03-31T23:59:59+05:00\n"  # a TOML date-time
    assert load_program_file(_write(tmp_path, native)).program.stamp_expiry.until == rule.until


@pytest.mark.parametrize(
    ("table", "where", "says"),
    [
        ('expire = "rolling"\n', "[stamps] days", "rolling expiry takes days"),
        ('expire = "fixed"\ndays = 3\n', "[stamps] days", "fixed expiry takes until"),
        ('expire = "rollin"\ndays = 3\n', "[stamps] expire", "is not a known choice"),
        ('expire = "rolling"\ndays = 0\n', "[stamps] days", "1 or more"),
        ('expire = "rolling"\ndays = 3\nwarn_dys = 1\n', "[stamps] warn_dys",
         "is not a key this table knows"),
        ('expire = "fixed"\nuntil = "2027-03-31T23:59:59"\n', "[stamps] until", "timezone-aware"),
        ('warn_days = 2\n', "[stamps] warn_days", "nothing to warn about"),
    ],
)
def test_a_wrong_stamp_expiry_names_the_key(tmp_path: Path, table: str, where: str, says: str) -> None:
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, HEAD + "\n[stamps]\n" + table))
    assert where in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


def test_card_validity_is_read_from_the_card_table(tmp_path: Path) -> None:
    days = load_program_file(_write(tmp_path, HEAD + "\n[card]\nvalid = { days_after_join = 365 }\n"))
    assert days.program.card_validity.days_after_join == 365
    text = HEAD + '\n[card]\nvalid = { until = "2027-12-31T23:59:59+05:00" }\n'
    until = load_program_file(_write(tmp_path, text))
    assert until.program.card_validity.until is not None


@pytest.mark.parametrize(
    ("table", "where", "says"),
    [
        ("valid = { days_after_jion = 3 }\n", "[card.valid] days_after_jion",
         "is not a key this table knows"),
        ("valid = {}\n", "[card.valid] days_after_join", "is missing"),
        ('valid = { days_after_join = 3, until = "2027-01-01T00:00:00+00:00" }\n', "[card.valid]",
         "not both"),
        ("vaild = { days_after_join = 3 }\n", "[card] vaild", "is not a key this table knows"),
        ("valid = { days_after_join = -1 }\n", "[card.valid] days_after_join", "1 or more"),
    ],
)
def test_a_wrong_card_validity_names_the_key(tmp_path: Path, table: str, where: str, says: str) -> None:
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, HEAD + "\n[card]\n" + table))
    assert where in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


def test_voucher_validity_in_calendar_months(tmp_path: Path) -> None:
    text = HEAD.replace('redemption = "redeem_code"', 'redemption = "redeem_code"\nvalidity = { months = 3 }')
    assert load_program_file(_write(tmp_path, text)).program.validity.months == 3
    both = HEAD.replace('redemption = "redeem_code"',
                        'redemption = "redeem_code"\nvalidity = { days = 3, months = 3 }')
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, both))
    assert "[program.validity] months" in str(caught.value.field)
    assert "cannot be given with days" in str(caught.value)


def test_earning_by_amount_is_read_from_earn(tmp_path: Path) -> None:
    line = 'earn = { per = "amount", step = "10000", currency = "UZS", remainder = "drop" }'
    text = HEAD.replace("goal = 9", "goal = 9\n" + line)
    rule = load_program_file(_write(tmp_path, text)).program.earn_by_amount
    assert rule is not None
    assert (str(rule.step), rule.currency, rule.remainder.value) == ("10000", "UZS", "drop")
    visit = HEAD.replace("goal = 9", 'goal = 9\nearn = { per = "visit" }')
    assert load_program_file(_write(tmp_path, visit)).program.earn_by_amount is None


@pytest.mark.parametrize(
    ("earn", "where", "says"),
    [
        ('{ per = "amount", step = "10000", currency = "UZX" }', "currency", "ISO 4217"),
        ('{ per = "amount", step = "-5", currency = "UZS" }', "step", "above 0"),
        ('{ per = "amont", step = "5", currency = "UZS" }', "per", "is not a known choice"),
        ('{ per = "visit", step = "5" }', "step", 'only applies to per = "amount"'),
        ('{ per = "amount", stp = "5", currency = "UZS" }', "stp", "is not a key this table knows"),
        ('{ per = "amount", step = "5", currency = "UZS", remainder = "round" }', "remainder",
         "known choice"),
    ],
)
def test_a_wrong_earn_names_the_key(tmp_path: Path, earn: str, where: str, says: str) -> None:
    text = HEAD.replace("goal = 9", f"goal = 9\nearn = {earn}")
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, text))
    assert f"[program.earn] {where}" in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


def test_a_prepaid_program_file(tmp_path: Path) -> None:
    text = HEAD.replace("goal = 9\n", 'kind = "prepaid"\npunches = 10\n')
    program = load_program_file(_write(tmp_path, text)).program
    assert (program.kind.value, program.punches, program.goal) == ("prepaid", 10, 10)
    wrong = HEAD.replace("goal = 9\n", 'goal = 9\nkind = "prepayed"\n')
    with pytest.raises(ProgramFileError, match="is not a known choice"):
        load_program_file(_write(tmp_path, wrong))
    missing = HEAD.replace("goal = 9\n", 'goal = 9\nkind = "prepaid"\n')
    with pytest.raises(ProgramFileError, match="prepaid"):
        load_program_file(_write(tmp_path, missing))


CONTEXT = """
[reward.context]
locations = ["chilonzor"]
channels = ["in_store"]
windows = [{ days = "mon-fri", from = "14:00", to = "17:00" }]
per_card = "one_per_day"
"""


def test_the_reward_context_is_read_from_its_table(tmp_path: Path) -> None:
    context = load_program_file(_write(tmp_path, HEAD + CONTEXT)).program.reward.context
    assert context is not None
    assert context.describe() == "Mon-Fri 14:00-17:00, chilonzor, in store, one per day"


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (("in_store", "in_shop"), "[reward.context] channels", "not a channel"),
        (('"mon-fri"', '"mon-fry"'), "[reward.context.windows[0]] days", "not a day"),
        (('from = "14:00"', 'from = "2pm"'), "[reward.context.windows[0]]", "HH:MM"),
        (('per_card = "one_per_day"', 'per_card = "twice"'), "[reward.context] per_card", "known choice"),
        (("locations", "locaitons"), "[reward.context] locaitons", "is not a key this table knows"),
    ],
)
def test_a_wrong_context_names_the_key(
    tmp_path: Path, change: tuple[str, str], where: str, says: str
) -> None:
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, HEAD + CONTEXT.replace(*change)))
    assert where in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


APPLE = """
[reward.context]
locations = ["chilonzor"]

[apple]
pass_type_identifier = "pass.com.example.lunch"
team_identifier = "ABCDE12345"
p12 = "pass.p12"
"""


def test_branches_give_the_context_locations_their_places(tmp_path: Path) -> None:
    text = HEAD + APPLE + '[[apple.branches]]\nid = "chilonzor"\nlatitude = 41.2756\nlongitude = 69.2034\n'
    loaded = load_program_file(_write(tmp_path, text))
    assert loaded.apple is not None
    place = loaded.apple.apple_options().branch_locations(["chilonzor"])[0]
    assert (place.latitude, place.longitude, place.relevant_text) == (41.2756, 69.2034, None)


@pytest.mark.parametrize(
    ("branch", "where", "says"),
    [
        ('id = "chilonzr"\nlatitude = 41.2\nlongitude = 69.2\n', "[apple.branches[0]] id",
         "did you mean 'chilonzor'?"),
        ('id = "chilonzor"\nlatitud = 41.2\nlongitude = 69.2\n', "[apple.branches[0]] latitud",
         "did you mean 'latitude'?"),
        ('id = "chilonzor"\nlatitude = 91.0\nlongitude = 69.2\n', "[apple.branches[0]] latitude",
         "from -90 to 90"),
        ('id = "chilonzor"\nlatitude = nan\nlongitude = 69.2\n', "[apple.branches[0]] latitude",
         "from -90 to 90"),
        ('id = "chilonzor"\nlatitude = "41.2"\nlongitude = 69.2\n', "[apple.branches[0]] latitude",
         "must be a whole number or a decimal number"),
        ('id = "chilonzor"\nlatitude = 41.2\n', "[apple.branches[0]] longitude", "is missing"),
        ('id = "chilonzor"\nlatitude = 41.2\nlongitude = 69.2\n[[apple.branches]]\nid = "chilonzor"\n'
         'latitude = 41.2\nlongitude = 69.2\n', "[apple.branches[1]] id", "a second time"),
    ],
)
def test_a_wrong_branch_names_the_key_and_the_fix(tmp_path: Path, branch: str, where: str, says: str) -> None:
    with pytest.raises(ProgramFileError) as caught:
        load_program_file(_write(tmp_path, HEAD + APPLE + "[[apple.branches]]\n" + branch))
    assert where in str(caught.value.field), caught.value
    assert says in str(caught.value), caught.value


def test_a_misspelled_key_suggests_the_one_meant(tmp_path: Path) -> None:
    with pytest.raises(ProgramFileError, match="did you mean 'description'"):
        load_program_file(_write(tmp_path, HEAD.replace("description =", "descripton =")))
