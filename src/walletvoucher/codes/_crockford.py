"""Generated redeem codes: Crockford base32, grouped, with a check character.

The alphabet leaves out ``I``, ``L``, ``O`` and ``U`` so nothing can be misread; what a person types
is normalised (case, spaces, hyphens, ``O``->``0``, ``I``/``L``->``1``) before it is compared. The
check character is the Luhn mod-N algorithm over the 32 symbols: it catches every single wrong
character and every swap of two neighbours.
"""

from __future__ import annotations

from collections.abc import Callable

from walletvoucher.codes._symbology import CodeOrigin, RedeemCode, Symbology
from walletvoucher.errors import CheckCharacterError, CodeError, ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
MAX_SYMBOLS = 64
"""The longest generated code, in symbols (a code is typed at a till: 12 is the default)."""
_MAX_TYPED = 1000  # characters read from what a person typed: bounds the work on hostile input

RandomSource = Callable[[int], bytes]
"""Returns *n* random bytes, e.g. :func:`secrets.token_bytes` or :func:`os.urandom`."""


def check_character(data: str) -> str:
    """The Luhn mod-32 check character for *data* (symbols of :data:`ALPHABET`).

    >>> check_character("7K3M9QXP4TR")
    'R'
    """
    total, factor = 0, 2
    for ch in reversed(data):
        addend = factor * _INDEX[ch]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def generate_code(
    random: RandomSource,
    *,
    groups: int = 3,
    group_size: int = 4,
    symbology: Symbology = Symbology.QR,
) -> RedeemCode:
    """Make a fresh redeem code from the caller's random source.

    The last character is the check character, so ``groups * group_size - 1`` symbols carry
    randomness (55 bits by default).

    >>> import itertools
    >>> counter = itertools.count()
    >>> fake_random = lambda n: bytes(next(counter) % 256 for _ in range(n))
    >>> generate_code(fake_random).value
    '0123-4567-89AB'
    """
    for name, number in (("groups", groups), ("group_size", group_size)):
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= MAX_SYMBOLS:
            raise ValidationError(
                f"must be a whole number from 1 to {MAX_SYMBOLS}", field=name, value=number,
                fix="e.g. groups=3, group_size=4",
            )
    if groups * group_size > MAX_SYMBOLS:
        raise ValidationError(
            f"makes codes longer than {MAX_SYMBOLS} symbols",
            field="groups*group_size",
            value=groups * group_size,
            fix="use a shorter code, e.g. groups=3, group_size=4",
        )
    if groups < 1 or group_size < 2 or groups * group_size < 6:
        raise ValidationError(
            "too short to be safe",
            field="groups*group_size",
            value=groups * group_size,
            fix="use at least 6 characters, e.g. groups=3, group_size=4",
        )
    length = groups * group_size - 1
    produced = random(length) if callable(random) else None
    if not isinstance(produced, (bytes, bytearray)):
        raise ValidationError(
            "must be a function returning random bytes", field="random", value=type(produced).__name__,
            fix="pass a function like secrets.token_bytes",
        )
    data = "".join(ALPHABET[b & 31] for b in produced)
    if len(data) != length:
        raise ValidationError(
            "random source returned too few bytes",
            field="random",
            value=len(data),
            fix="pass a function like secrets.token_bytes",
        )
    raw = data + check_character(data)
    value = "-".join(raw[i : i + group_size] for i in range(0, len(raw), group_size))
    return RedeemCode(value=value, symbology=symbology, origin=CodeOrigin.GENERATED)


def normalize_code(text: str) -> str:
    """Turn what a person typed into the canonical code, checking the check character.

    >>> normalize_code(" o123 4567 89ab ")
    '0123-4567-89AB'
    >>> normalize_code("0123-4567-89AC")
    Traceback (most recent call last):
    ...
    walletvoucher.errors.CheckCharacterError: code='0123-4567-89AC': check character 'C' does not match \
(expected 'B'), most likely a typo. Fix: ask the customer to read the code again
    """
    raw = _canonical_symbols(text)
    if len(raw) > MAX_SYMBOLS:
        raise CodeError(
            f"has {len(raw)} symbols, more than any redeem code ({MAX_SYMBOLS})",
            field="code",
            value=text[:40] + "...",
            fix="type the code shown on the voucher",
        )
    if len(raw) < 2:
        raise CodeError(
            "is too short to be a redeem code",
            field="code",
            value=text,
            fix="type the whole code shown on the voucher",
        )
    expected = check_character(raw[:-1])
    if raw[-1] != expected:
        raise CheckCharacterError(
            f"check character {raw[-1]!r} does not match (expected {expected!r}), most likely a typo",
            field="code",
            value=text,
            fix="ask the customer to read the code again",
        )
    size = _group_size(text)
    return "-".join(raw[i : i + size] for i in range(0, len(raw), size))


def _canonical_symbols(text: str) -> str:
    if not isinstance(text, str):
        raise CodeError(
            f"must be text, not {type(text).__name__}", field="code", value=repr(text)[:80],
            fix="pass the code as the customer typed it (a str)",
        )
    if len(text) > _MAX_TYPED:
        raise CodeError(
            f"is {len(text)} characters, far longer than a redeem code", field="code",
            value=text[:40] + "...", fix="type the code shown on the voucher",
        )
    typed = "".join(text.split()).replace("-", "")
    # Upper-case only ASCII: str.upper() maps 'ß' to 'SS' and 'ﬁ' to 'FI', which are not code symbols.
    raw = "".join(ch.upper() if ch.isascii() else ch for ch in typed).translate(_TYPOS)
    bad = sorted({ch for ch in raw if ch not in _INDEX})
    if bad:
        raise CodeError(
            f"contains characters that are not in redeem codes: {''.join(bad[:10])!r}",
            field="code",
            value=text,
            fix="use only digits and the letters A-Z without I, L, O, U",
        )
    return raw


def _group_size(text: str) -> int:
    groups = [g for g in "".join(text.split()).split("-") if g]
    return len(groups[0]) if len(groups) > 1 else 4


def codes_match(expected: str, typed: str) -> bool:
    """Whether *typed* is the generated code *expected*, after normalising both.

    Raises :class:`CheckCharacterError` when *typed* has a wrong check character.

    >>> codes_match("0123-4567-89AB", "0123456789ab")
    True
    """
    return _canonical_symbols(normalize_code(typed)) == _canonical_symbols(expected)
