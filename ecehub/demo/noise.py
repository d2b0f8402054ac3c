"""How one real program drifts between systems: the ways clerks in different agencies write
the same name, street address, phone number and license number.

Each function takes the generator's ``random.Random`` so a world stays reproducible.
"""

from __future__ import annotations

import random
import re
import string

from ecehub.demo.geography import STREET_NAMES, STREET_TYPES

__all__ = [
    "abbreviate",
    "address_variant",
    "drop_unit",
    "format_phone",
    "mistype_license",
    "moved_street",
    "name_variant",
    "street_typo",
    "swap_words",
    "typo",
]

_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("Center", "Ctr"),
    ("Child Care", "Childcare"),
    ("Child Development Center", "CDC"),
    ("Academy", "Acad."),
    ("Early Learning", "Early Lrng"),
    ("Learning", "Lrng"),
    ("Preschool", "Pre-School"),
    ("Family Child Care", "FCC"),
    ("Daycare", "Day Care"),
)
_LEGAL_SUFFIXES = (", LLC", ", Inc.", " LLC", " Inc")
_ACRONYM = re.compile(r"\b([A-Z]{2,4})\b")


def _abbreviate(rng: random.Random, name: str) -> str:
    options = [(long, short) for long, short in _ABBREVIATIONS if long in name or short in name]
    if not options:
        return name
    long, short = rng.choice(options)
    return name.replace(long, short) if long in name else name.replace(short, long)


def abbreviate(rng: random.Random, name: str) -> str:
    """Shorten one word or phrase the way clerks do ("Center" -> "Ctr", "Academy" ->
    "Acad."); ``name`` unchanged when nothing in it has a usual short form."""
    options = [(long, short) for long, short in _ABBREVIATIONS if long in name]
    if not options:
        return name
    long, short = rng.choice(options)
    return name.replace(long, short)


# Neighbours on a QWERTY keyboard, for a wrong key.
_KEYS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    c: "".join(
        row2[j]
        for r2, row2 in enumerate(_KEYS)
        for j in (i - 1, i, i + 1)
        if abs(r2 - r) <= 1 and 0 <= j < len(row2) and row2[j] != c
    )
    for r, row in enumerate(_KEYS)
    for i, c in enumerate(row)
}


def typo(rng: random.Random, text: str) -> str:
    """One keying error inside a word of four letters or more: two letters swapped, one
    dropped, one doubled, or a neighbouring key hit instead."""
    words = [m for m in re.finditer(r"[A-Za-z]{4,}", text)]
    if not words:
        return text
    word = rng.choice(words)
    chars = list(word.group(0))
    i = rng.randrange(1, len(chars) - 1)  # first letters are rarely mistyped
    roll = rng.random()
    if roll < 0.3 and chars[i] != chars[i + 1]:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif roll < 0.55:
        del chars[i]
    elif roll < 0.75:
        chars.insert(i, chars[i])
    else:
        near = _NEIGHBOURS.get(chars[i].lower(), "")
        if not near:
            del chars[i]
        else:
            key = rng.choice(near)
            chars[i] = key.upper() if chars[i].isupper() else key
    return text[: word.start()] + "".join(chars) + text[word.end() :]


def swap_words(rng: random.Random, name: str) -> str:
    """The words of ``name`` in another order: the first words moved behind a comma
    ("Learning Center, Sunshine"), or two neighbouring words swapped."""
    words = name.replace(",", "").split()
    if len(words) < 2:
        return name
    if rng.random() < 0.5:
        cut = rng.randrange(1, len(words))
        return f"{' '.join(words[cut:])}, {' '.join(words[:cut])}"
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _ampersand(name: str) -> str:
    if " & " in name:
        return name.replace(" & ", " and ")
    return name.replace(" and ", " & ")


def _legal_suffix(rng: random.Random, name: str) -> str:
    for suffix in _LEGAL_SUFFIXES:
        if name.lower().endswith(suffix.lower()):
            return name[: -len(suffix)]
    return name + rng.choice(_LEGAL_SUFFIXES)


def _dot_acronym(name: str) -> str:
    return _ACRONYM.sub(lambda m: ".".join(m.group(1)) + ".", name, count=1)


def _case(rng: random.Random, name: str) -> str:
    return name.upper() if rng.random() < 0.6 else string.capwords(name)


def name_variant(rng: random.Random, name: str, changes: int = 2) -> str:
    """``name`` as another agency might have keyed it: abbreviations, "&"/"and", a legal
    suffix added or dropped, dotted initials, upper or title case, a leading "The"."""
    out = name
    for _ in range(changes):
        roll = rng.random()
        if roll < 0.30:
            out = _abbreviate(rng, out)
        elif roll < 0.45:
            out = _ampersand(out)
        elif roll < 0.65:
            out = _legal_suffix(rng, out)
        elif roll < 0.75:
            out = _dot_acronym(out)
        elif roll < 0.90:
            out = _case(rng, out)
        elif not out.startswith("The "):
            out = "The " + out
    return out


_TYPE_WORDS = {short: long for short, long in STREET_TYPES if short != long}
_TYPE_WORDS.update({long: short for short, long in STREET_TYPES if short != long})
_DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
_DIRECTIONS.update({v: k for k, v in _DIRECTIONS.items()})
_UNITS = {"Ste": "Suite", "Suite": "#", "#": "Ste", "Unit": "Apt", "Apt": "Unit"}


def address_variant(rng: random.Random, street: str) -> str:
    """Re-key a street line: street types and directions spelled out or abbreviated, unit
    designators swapped ("Ste 4" / "Suite 4" / "# 4"), sometimes all upper case."""
    words = street.split(" ")
    out = [
        _TYPE_WORDS.get(w, _DIRECTIONS.get(w, _UNITS.get(w, w))) if i > 0 else w
        for i, w in enumerate(words)
    ]
    text = " ".join(out)
    if rng.random() < 0.25:
        text = text.upper()
    return text


_UNIT_WORDS = ("Ste", "Suite", "#", "Unit", "Apt")


def drop_unit(street: str) -> str:
    """The street line without its suite / apartment part ("12 Oak St Ste 4" -> "12 Oak St")."""
    words = street.split(" ")
    for i, word in enumerate(words):
        if i > 1 and word.rstrip(".").title() in _UNIT_WORDS:
            return " ".join(words[:i])
    return street


def moved_street(rng: random.Random, street: str) -> str:
    """Another street address in the same town: where the program was before it moved (or
    moved to), so house number and street both differ."""
    number = street.partition(" ")[0]
    while True:
        candidate = str(rng.randint(100, 9899))
        if candidate != number:
            break
    short, _ = rng.choice(STREET_TYPES)
    return f"{candidate} {rng.choice(STREET_NAMES)} {short}"


def street_typo(rng: random.Random, street: str) -> str:
    """A keying error in a street line: two neighbouring digits of the house number swapped
    (1243 for 1234), or a typo in the street name; ``street`` unchanged when neither can
    happen ("111 Elm St")."""
    number, _, rest = street.partition(" ")
    pairs = [i for i in range(len(number) - 1) if number[i] != number[i + 1]]
    if not number.isdigit():
        pairs = []
    mistyped = typo(rng, rest) if rest and (not pairs or rng.random() < 0.5) else rest
    if mistyped != rest:
        return f"{number} {mistyped}"
    if pairs:
        i = rng.choice(pairs)
        digits = list(number)
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
        if digits[0] != "0":
            return f"{''.join(digits)} {rest}"
    return street


def format_phone(digits: str, style: str) -> str:
    """Ten digits in one agency's house style: ``paren`` (555) 201-3344, ``dash``
    555-201-3344, ``dot`` 555.201.3344, ``plain`` 5552013344."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    match style:
        case "paren":
            return f"({a}) {b}-{c}"
        case "dash":
            return f"{a}-{b}-{c}"
        case "dot":
            return f"{a}.{b}.{c}"
    return digits


def mistype_license(rng: random.Random, license_no: str, taken: set[str]) -> str:
    """A plausible keying error in a license number (two digits swapped, one digit wrong,
    one dropped, the dash lost) that is not some other facility's number."""
    prefix, _, digits = license_no.partition("-")
    for _ in range(50):
        roll = rng.random()
        chars = list(digits)
        i = rng.randrange(len(chars) - 1)
        if roll < 0.35 and chars[i] != chars[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            candidate = f"{prefix}-{''.join(chars)}"
        elif roll < 0.7:
            chars[i] = str((int(chars[i]) + rng.randint(1, 9)) % 10)
            candidate = f"{prefix}-{''.join(chars)}"
        elif roll < 0.85:
            del chars[i]
            candidate = f"{prefix}-{''.join(chars)}"
        else:
            candidate = f"{prefix}{digits[:-1]}{(int(digits[-1]) + 1) % 10}"
        if candidate != license_no and candidate not in taken:
            return candidate
    raise AssertionError(f"could not mistype {license_no!r}")  # pragma: no cover
