"""Normalisation of the fields programs are matched on: names, street addresses, phones,
emails and identifiers, so that the ways different agencies key the same value compare equal.

Each function is pure and cheap; the matcher calls them once per record.
"""

from __future__ import annotations

import re

__all__ = [
    "house_number",
    "identifier_skeleton",
    "name_numbers",
    "normalize_address",
    "normalize_email",
    "normalize_identifier",
    "normalize_name",
    "normalize_phone",
    "split_unit",
]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z]\.){2,}(?![a-z])")
_WHITESPACE = re.compile(r"\s+")
_IDENTIFIER_PUNCT = re.compile(r"[^0-9A-Z]+")

# Whole phrases first (matched on the lower-cased, punctuation-free text, word-bounded).
_NAME_PHRASES: tuple[tuple[str, str], ...] = (
    ("pre school", "preschool"),
    ("pre k", "prek"),
    ("day care", "daycare"),
    ("child care", "childcare"),
    ("cdc", "child development center"),
    ("fcc", "family childcare"),
)
_NAME_WORDS: dict[str, str] = {
    "ctr": "center",
    "cntr": "center",
    "centre": "center",
    "acad": "academy",
    "lrng": "learning",
    "lrn": "learning",
    "dev": "development",
    "devel": "development",
    "elem": "elementary",
    "sch": "school",
    "schl": "school",
    "chr": "church",
    "st": "saint",
    "mt": "mount",
    "intl": "international",
    "assn": "association",
    "and": "",
}
_LEGAL_SUFFIXES = frozenset({"llc", "inc", "co", "corp", "corporation", "ltd", "lp", "llp", "pllc"})
_LEGAL_WORDS = frozenset({"llc", "inc", "corp", "corporation", "ltd", "llp", "pllc"})
"""Legal forms dropped wherever they stand: words moved around ("Inc, The Maria Okafor
Family Child Care") carry them to the middle. "co" and "lp" only go at the end."""
_NOISE_PHRASES = ("early head start", "head start")
"""Head Start data systems append these to a center's name; they do not tell programs
apart (both sides are normalised alike)."""

_ADDRESS_WORDS: dict[str, str] = {
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "dr": "drive",
    "ln": "lane",
    "blvd": "boulevard",
    "ct": "court",
    "pkwy": "parkway",
    "hwy": "highway",
    "pl": "place",
    "cir": "circle",
    "ter": "terrace",
    "trl": "trail",
    "sq": "square",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
    "ne": "northeast",
    "nw": "northwest",
    "se": "southeast",
    "sw": "southwest",
    "ste": "unit",
    "suite": "unit",
    "apt": "unit",
    "apartment": "unit",
    "unit": "unit",
    "rm": "unit",
    "room": "unit",
    "bldg": "building",
}


def _phrases(text: str, phrases: tuple[tuple[str, str], ...]) -> str:
    padded = f" {text} "
    for old, new in phrases:
        padded = padded.replace(f" {old} ", f" {new} ")
    return padded.strip()


def normalize_name(name: str | None) -> str:
    """Lower case, "&" as "and" (then dropped), dotted acronyms joined (A.B.C. -> abc),
    apostrophes dropped, abbreviations spelled out (Ctr -> center, Acad. -> academy, Lrng ->
    learning), "Pre-School" / "Day Care" / "Child Care" joined, legal forms (LLC, Inc; Co
    at the end), "The" and an appended "Head Start" / "Early Head Start" dropped."""
    if not name:
        return ""
    text = name.lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _NON_ALNUM.sub(" ", text).strip()
    text = _phrases(text, _NAME_PHRASES)
    words = [_NAME_WORDS.get(w, w) for w in text.split()]
    words = [w for w in " ".join(words).split() if w]
    kept = [w for w in words if w not in _LEGAL_WORDS and w != "the"]
    if kept:
        text = f" {' '.join(kept)} "
        for phrase in _NOISE_PHRASES:
            text = text.replace(f" {phrase} ", " ")
        words = text.split() or kept
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def name_numbers(normalized_name: str) -> frozenset[str]:
    """The numbers in a normalised name ("sunshine academy 12" -> {"12"}): programs that
    share a brand are often told apart only by them."""
    return frozenset(w for w in normalized_name.split() if w.isdigit())


def normalize_address(street: str | None) -> str:
    """Lower case, punctuation dropped, street types, directions and unit designators spelled
    one way ("St" / "Street" -> street; "Ste 4" / "Suite 4" / "# 4" -> unit 4)."""
    if not street:
        return ""
    text = street.lower().replace("#", " unit ")
    text = _NON_ALNUM.sub(" ", text)
    return " ".join(_ADDRESS_WORDS.get(w, w) for w in text.split())


def split_unit(normalized_address: str) -> tuple[str, str]:
    """A normalised street line as (street, unit): ("12 oak street unit 4") -> ("12 oak
    street", "4"); the unit is ``""`` when the line has none."""
    street, found, unit = normalized_address.partition(" unit ")
    if not found and normalized_address.startswith("unit "):
        return "", normalized_address[5:]
    return street, unit


def house_number(normalized_address: str) -> str:
    """The leading house number of a normalised street line, or ``""``."""
    first, _, _ = normalized_address.partition(" ")
    return first if first[:1].isdigit() else ""


def normalize_phone(phone: str | None) -> str:
    """Digits only, a leading US country code 1 dropped; ``""`` for fewer than 7 digits."""
    if not phone:
        return ""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) >= 7 else ""


def normalize_email(email: str | None) -> str:
    return email.strip().lower() if email else ""


def normalize_identifier(value: str | None) -> str:
    """Trimmed, upper-cased, whitespace dropped ("ccl-123456 " and "CCL - 123456" compare
    equal). Dashes and other punctuation are kept: a number keyed without its dash may be
    another record's number with the punctuation lost *and* a digit wrong (``CCL-559078``
    mistyped ``CCL559079`` is not facility ``CCL-559079``), so only
    :func:`identifier_skeleton` drops them, for scoring, never for exact linking."""
    if value is None:
        return ""
    return _WHITESPACE.sub("", value.strip().upper())


def identifier_skeleton(value: str) -> str:
    """Letters and digits only, upper-cased: for comparing identifiers while scoring."""
    return _IDENTIFIER_PUNCT.sub("", value.upper())
