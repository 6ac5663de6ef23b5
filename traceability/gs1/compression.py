"""Compressed GS1 Digital Links: GS1's compression algorithm, both ways.

A compressed Digital Link writes a link's GS1 element strings (and any other
``key=value`` pairs of its query) as one binary string, in URI-safe base64,
as one path segment: ``https://example.org/DBHKVAdpQgowOQ`` is
``https://example.org/01/09780345418913/21/12345``. The algorithm is the GS1
Digital Link standard's (its compression section) as GS1's reference
implementation writes it (``GS1DigitalLinkToolkit.js`` of
gs1/GS1DigitalLinkCompressionPrototype); its tables are in
``compression_tables``. The binary string is a sequence of elements:

- an AI as 4-bit digits (2, 3 or 4 of them, ``AI_LENGTHS``), then its value; or
  the two hex digits of an optimised sequence of AIs (``OPTIMISATIONS``: ``0B``
  is a GTIN then its lot), then each of their values in turn;
- each value component by its format (``FORMATS``). Digits (``N``): a fixed
  count as one binary number of ``value_bits(count)`` bits; a variable count
  first the count in ``length_bits(maximum)`` bits. Characters (``X``): 3 bits
  naming the encoding (``000`` digits as a number, ``001`` lower-case hex,
  ``010`` upper-case hex, ``011`` URI-safe base64, ``100`` 7-bit ASCII), the
  length when it varies, then the characters (4, 6 or 7 bits each);
- a ``key=value`` pair that is not GS1's: ``1111``, the key's length in 7 bits,
  the key in base64 (6 bits a character), then the value as characters with a
  7-bit length.

The string ends with 0 bits up to a multiple of 6. Decompressing checks every
bit: an unknown AI or code, a length past the format's maximum, a number with
more digits than its count, a character outside GS1 set 82, a string cut short,
a repeated AI or trailing bits are a ``CompressionError``, never a guess.

Where this module and GS1's toolkit part (each case is in
``tests/gs1/test_compression.py``): a digits-only value keeps its leading zeros
(``0012``; the toolkit reads the number back as ``12`` although the length it
encoded says four digits), and AI 235 and AI 7040 follow the GS1 General
Specifications' formats (see ``compression_tables``). Every binary string the
toolkit writes for other values is the one this module writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from urllib.parse import quote, urlsplit

from traceability.gs1.compression_tables import AI_LENGTHS, FORMATS, OPTIMISATIONS, PRIMARY_KEYS
from traceability.gs1.digital_link import (
    CANONICAL_DOMAIN,
    SET_82,
    TPX,
    DigitalLink,
    DigitalLinkError,
    parse_query,
    parse_uri,
)

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HEX = "0123456789ABCDEF"
#: The longest compressed segment read or written (3,072 bits): the bound on what a request makes the decoder read.
MAX_COMPRESSED_LENGTH = 512
#: The longest URI or path ``expand`` and ``decompress`` read.
MAX_URI_LENGTH = 2048
#: The shortest compressed Digital Link: a GTIN alone takes 55 bits, ten characters.
MIN_COMPRESSED_LENGTH = 10
COMPRESSED_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
GTIN_QUALIFIERS = ("22", "10", "21", TPX)
EXTENSION_MAX_LENGTH = 127  # 7 bits of length, for a key and for its value

SET_82_VALUE = re.compile(SET_82 + "*")
DIGITS = re.compile(r"[0-9]*")
UPPER_HEX = re.compile(r"[0-9A-F]+")
LOWER_HEX = re.compile(r"[0-9a-f]+")
BASE64_TEXT = re.compile(r"[A-Za-z0-9_-]+")
PRINTABLE_ASCII = re.compile(r"[ -~]*")
FORMAT_COMPONENT = re.compile(r"([NX])(\.\.)?(\d+)")
DIGITS_ENCODING, LOWER_HEX_ENCODING, UPPER_HEX_ENCODING, BASE64_ENCODING, ASCII_ENCODING = range(5)


class CompressionError(DigitalLinkError):
    """A string that is not a compressed Digital Link, or values that cannot be compressed; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__("compressed", detail)


@dataclass(frozen=True)
class Component:
    """One part of an AI's format: digits (``N``) or characters (``X``), ``length`` of them or up to it."""

    kind: str
    length: int
    variable: bool


@cache
def components(ai: str) -> tuple[Component, ...]:
    """The components of an AI's value format (``N13+X..17``); CompressionError for an AI the tables lack."""
    if ai not in FORMATS:
        raise CompressionError(f"AI {ai} has no compression format")
    return tuple(
        Component(kind, int(length), bool(dots))
        for kind, dots, length in (
            FORMAT_COMPONENT.fullmatch(part).groups()  # type: ignore[union-attr]
            for part in FORMATS[ai].split("+")
        )
    )


def value_bits(digits: int) -> int:
    """The bits of a number of ``digits`` digits: GS1's ``ceil(digits·log2(10) + 0.01)`` (1 for none)."""
    return math.ceil(digits * math.log(10) / math.log(2) + 0.01)


def length_bits(maximum: int) -> int:
    """The bits of the length of a value of at most ``maximum`` digits or characters: GS1's formula."""
    return math.ceil(math.log(maximum) / math.log(2) + 0.01)


# --- Decompressing -------------------------------------------------------------------------------


class _Bits:
    """A binary string read from the left; running past its end is a CompressionError."""

    def __init__(self, bits: str) -> None:
        self.bits = bits
        self.cursor = 0

    @property
    def remaining(self) -> int:
        return len(self.bits) - self.cursor

    def take(self, count: int) -> int:
        if count > self.remaining:
            raise CompressionError("the binary string ends inside a value")
        chunk = self.bits[self.cursor : self.cursor + count]
        self.cursor += count
        return int(chunk, 2) if chunk else 0


def _read_number(bits: _Bits, digits: int) -> str:
    number = bits.take(value_bits(digits))
    if number >= 10**digits:
        raise CompressionError(f"a number of {number} in a field of {digits} digits")
    # Leading zeros count: the length says how many digits there are (the toolkit drops them).
    return str(number).zfill(digits) if digits else ""


def _read_characters(bits: _Bits, encoding: int, count: int) -> str:
    if encoding == DIGITS_ENCODING:
        return _read_number(bits, count)
    if encoding in (LOWER_HEX_ENCODING, UPPER_HEX_ENCODING):
        text = "".join(HEX[bits.take(4)] for _ in range(count))
        return text.lower() if encoding == LOWER_HEX_ENCODING else text
    if encoding == BASE64_ENCODING:
        return "".join(BASE64URL[bits.take(6)] for _ in range(count))
    if encoding == ASCII_ENCODING:
        return "".join(chr(bits.take(7)) for _ in range(count))
    raise CompressionError(f"unknown character encoding {encoding:03b}")


def _read_value(bits: _Bits, ai: str) -> str:
    parts = []
    for position, component in enumerate(components(ai)):
        count = component.length
        if component.kind == "N":
            if component.variable:
                count = bits.take(length_bits(component.length))
            if count > component.length:
                raise CompressionError(f"AI {ai}: {count} digits, at most {component.length}")
            part = _read_number(bits, count)
        else:
            encoding = bits.take(3)
            if component.variable:
                count = bits.take(length_bits(component.length))
            if count > component.length:
                raise CompressionError(f"AI {ai}: {count} characters, at most {component.length}")
            part = _read_characters(bits, encoding, count)
            if not SET_82_VALUE.fullmatch(part):
                raise CompressionError(f"AI {ai}: a character outside GS1 set 82")
        if position == 0 and not part:
            raise CompressionError(f"AI {ai}: an empty value")
        parts.append(part)
    return "".join(parts)


def _read_extension(bits: _Bits, first_bits: int) -> tuple[str, str]:
    # The key's 7-bit length starts right after the 1111 flag: its first 4 bits were read with it.
    key_length = (first_bits << 3) | bits.take(3)
    key = "".join(BASE64URL[bits.take(6)] for _ in range(key_length))
    encoding = bits.take(3)
    value = _read_characters(bits, encoding, bits.take(7))
    if not key or key.isdigit():
        raise CompressionError(f"an empty or all-digit key {key!r}")
    if not PRINTABLE_ASCII.fullmatch(value):
        raise CompressionError(f"the value of {key} holds a control character")
    return key, value


@dataclass(frozen=True)
class Decompressed:
    """What a compressed Digital Link holds: its GS1 element strings and its other ``key=value`` pairs.

    ``elements`` are (AI, value) pairs in the order of the binary string;
    ``path`` and ``query`` write them as the uncompressed Digital Link of a
    GTIN (``expand`` makes sure there is one): the GTIN-14 and its key
    qualifiers in the path, encoded as ``DigitalLink.path`` does, then the
    data attributes by ascending AI and the other pairs, in their order, in
    the query.
    """

    elements: tuple[tuple[str, str], ...]
    extensions: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        values = dict(self.elements)
        if "01" not in values:
            raise CompressionError("no GTIN (AI 01)")
        return DigitalLink(
            gtin=values["01"],
            variant=values.get("22"),
            lot=values.get("10"),
            serial=values.get("21"),
            tpx=values.get(TPX),
        ).path()

    @property
    def query(self) -> str:
        attributes = sorted(
            ((ai, value) for ai, value in self.elements if ai != "01" and ai not in GTIN_QUALIFIERS),
            key=lambda pair: int(pair[0]),
        )
        return "&".join(
            f"{key}={quote(value, safe='-._~')}" for key, value in (*attributes, *self.extensions)
        )

    def reference(self) -> str:
        """The uncompressed path and query (``/01/.../10/...?17=...``): the same link, on any domain."""
        return self.path + (f"?{self.query}" if self.query else "")

    def uri(self, base_url: str = CANONICAL_DOMAIN) -> str:
        """The uncompressed Digital Link on ``base_url``."""
        return base_url.rstrip("/") + self.reference()


def decode(segment: str) -> Decompressed:
    """What a compressed segment holds, whatever its AIs; CompressionError when it is not GS1's binary form."""
    if len(segment) > MAX_COMPRESSED_LENGTH:
        raise CompressionError(f"{len(segment)} characters, at most {MAX_COMPRESSED_LENGTH}")
    if not COMPRESSED_SEGMENT.fullmatch(segment):
        raise CompressionError("not URI-safe base64 (A-Z, a-z, 0-9, - and _)")
    bits = _Bits("".join(f"{BASE64URL.index(character):06b}" for character in segment))
    elements: dict[str, str] = {}
    extensions: dict[str, str] = {}

    def add(ai: str) -> None:
        if ai in elements:
            raise CompressionError(f"AI {ai} twice")
        elements[ai] = _read_value(bits, ai)

    while bits.remaining > 8:
        first, second = bits.take(4), bits.take(4)
        code = f"{first:X}{second:X}"
        if first <= 9 and second <= 9:
            if code not in AI_LENGTHS:
                raise CompressionError(f"no AI starts with {code}")
            digits = [bits.take(4) for _ in range(AI_LENGTHS[code] - 2)]
            if any(digit > 9 for digit in digits):
                raise CompressionError(f"an AI starting {code} with a digit past 9")
            add(code + "".join(map(str, digits)))
        elif code in OPTIMISATIONS:
            for ai in OPTIMISATIONS[code]:
                add(ai)
        elif first == 0xF:
            key, value = _read_extension(bits, second)
            if key in extensions:
                raise CompressionError(f"the key {key} twice")
            extensions[key] = value
        else:
            raise CompressionError(f"no AI or optimisation has the code {code}")
    rest = bits.bits[bits.cursor :]
    if len(rest) >= 6 or "1" in rest:
        raise CompressionError("bits left over after the last value")
    return Decompressed(tuple(elements.items()), tuple(extensions.items()))


def expand(path_or_uri: str) -> Decompressed:
    """The GTIN Digital Link a compressed URI or path holds; CompressionError when it holds none.

    Fully compressed: the last path segment is the compressed string
    (``https://example.org/DBHKVAdpQgowOQ``, a path prefix allowed). Partially
    compressed: ``/01/{gtin}/{compressed}``, the GTIN in clear and the rest
    compressed. The string holds exactly one primary key, a GTIN (the only one
    this registry resolves). The URI's own query is not read (``decompress``
    reads it).
    """
    if len(path_or_uri) > MAX_URI_LENGTH:
        raise CompressionError(f"{len(path_or_uri)} characters, at most {MAX_URI_LENGTH}")
    path = urlsplit(path_or_uri.strip()).path
    segments = path.removesuffix("/").split("/") if path != "/" else [""]
    decoded = decode(segments[-1])
    elements = decoded.elements
    if len(segments) >= 3 and segments[-3] == "01":
        gtin = segments[-2]
        if not (gtin.isascii() and gtin.isdigit() and len(gtin) in (8, 12, 13, 14)):
            raise CompressionError(f"the GTIN {gtin!r} before the compressed part is not 8 to 14 digits")
        elements = (("01", gtin.zfill(14)), *elements)
    keys = [ai for ai, _value in elements if ai in PRIMARY_KEYS]
    if len(keys) != 1:
        raise CompressionError(f"{len(keys)} primary keys ({', '.join(keys)}), a Digital Link has one")
    if keys != ["01"]:
        raise CompressionError(f"the primary key is AI {keys[0]}, not a GTIN")
    return Decompressed(elements, decoded.extensions)


def decompress(path_or_uri: str, *, today: date | None = None) -> DigitalLink:
    """The validated Digital Link of a compressed URI or path, dates of the compressed string and of the query included.

    Raises CompressionError when it is no compressed GTIN link, and
    DigitalLinkError when the link it holds is malformed (a wrong check digit,
    an invalid date...), as ``parse_uri`` does for the uncompressed form.
    """
    expanded = expand(path_or_uri)
    query = "&".join(filter(None, (expanded.query, urlsplit(path_or_uri.strip()).query)))
    return parse_uri(CANONICAL_DOMAIN + expanded.path + (f"?{query}" if query else ""), today=today)


# --- Compressing ---------------------------------------------------------------------------------


def _number_bits(digits: str, ai: str) -> str:
    if not DIGITS.fullmatch(digits):
        raise CompressionError(f"AI {ai}: {digits!r} is not digits")
    return f"{int(digits or '0'):0{value_bits(len(digits))}b}"


def _encoding(text: str) -> int:
    """The shortest of GS1's character encodings that can write ``text`` (the toolkit's order of preference)."""
    if text and DIGITS.fullmatch(text):
        return DIGITS_ENCODING
    if UPPER_HEX.fullmatch(text):
        return UPPER_HEX_ENCODING
    if LOWER_HEX.fullmatch(text):
        return LOWER_HEX_ENCODING
    if BASE64_TEXT.fullmatch(text):
        return BASE64_ENCODING
    return ASCII_ENCODING


def _character_bits(text: str, length: str, ai: str) -> str:
    encoding = _encoding(text)
    if encoding == DIGITS_ENCODING:
        written = _number_bits(text, ai)
    elif encoding in (LOWER_HEX_ENCODING, UPPER_HEX_ENCODING):
        written = "".join(f"{HEX.index(character.upper()):04b}" for character in text)
    elif encoding == BASE64_ENCODING:
        written = "".join(f"{BASE64URL.index(character):06b}" for character in text)
    else:
        if not text.isascii():
            raise CompressionError(f"{ai}: a character outside ASCII")
        written = "".join(f"{ord(character):07b}" for character in text)
    return f"{encoding:03b}{length}{written}"


def _value_bits(ai: str, value: str) -> str:
    written, cursor = [], 0
    for position, component in enumerate(components(ai)):
        if component.variable:
            part, cursor = value[cursor:], len(value)
            if len(part) > component.length:
                raise CompressionError(f"AI {ai}: {len(part)} characters, at most {component.length}")
        else:
            part, cursor = value[cursor : cursor + component.length], cursor + component.length
            if len(part) != component.length:
                raise CompressionError(f"AI {ai}: {value!r} is shorter than its format {FORMATS[ai]}")
        if position == 0 and not part:
            raise CompressionError(f"AI {ai}: an empty value")
        length = f"{len(part):0{length_bits(component.length)}b}" if component.variable else ""
        if component.kind == "N":
            written.append(length + _number_bits(part, ai))
        elif not SET_82_VALUE.fullmatch(part):
            raise CompressionError(f"AI {ai}: {part!r} has a character outside GS1 set 82")
        else:
            written.append(_character_bits(part, length, ai))
    if cursor < len(value):
        raise CompressionError(f"AI {ai}: {value!r} is longer than its format {FORMATS[ai]}")
    return "".join(written)


def _extension_bits(key: str, value: str) -> str:
    if not (0 < len(key) <= EXTENSION_MAX_LENGTH and BASE64_TEXT.fullmatch(key)) or key.isdigit():
        raise CompressionError(f"the key {key!r}: 1 to 127 of A-Z, a-z, 0-9, - and _, not only digits")
    if len(value) > EXTENSION_MAX_LENGTH or not PRINTABLE_ASCII.fullmatch(value):
        raise CompressionError(f"the value of {key}: at most 127 printable ASCII characters")
    written_key = "".join(f"{BASE64URL.index(character):06b}" for character in key)
    return f"1111{len(key):07b}{written_key}" + _character_bits(value, f"{len(value):07b}", key)


def _nibbles(code: str) -> str:
    return "".join(f"{int(character, 16):04b}" for character in code)


def encode(
    elements: Iterable[tuple[str, str]], extensions: Iterable[tuple[str, str]] = (), *, optimise: bool = True
) -> str:
    """The compressed segment of GS1 element strings and other ``key=value`` pairs, as GS1's toolkit writes it.

    With ``optimise`` (GS1's default), the longest sequence of ``OPTIMISATIONS``
    the AIs hold is written first, again until none fits; the other AIs follow
    in ascending order, then the other pairs in their order.
    """
    values: dict[str, str] = {}
    for ai, value in elements:
        if ai in values:
            raise CompressionError(f"AI {ai} twice")
        values[ai] = value
    remaining = sorted(values)
    sequences = []
    while optimise:
        fitting = [code for code, sequence in OPTIMISATIONS.items() if set(sequence) <= set(remaining)]
        if not fitting:
            break
        best = max(fitting, key=lambda code: len("".join(OPTIMISATIONS[code])))  # the first of the longest
        sequences.append(best)
        remaining = [ai for ai in remaining if ai not in OPTIMISATIONS[best]]
    written = [
        _nibbles(code) + "".join(_value_bits(ai, values[ai]) for ai in OPTIMISATIONS[code])
        for code in sequences
    ]
    written += [_nibbles(ai) + _value_bits(ai, values[ai]) for ai in remaining]
    keys = set()
    for key, value in extensions:
        if key in keys:
            raise CompressionError(f"the key {key} twice")
        keys.add(key)
        written.append(_extension_bits(key, value))
    bits = "".join(written)
    bits += "0" * (-len(bits) % 6)
    segment = "".join(BASE64URL[int(bits[start : start + 6], 2)] for start in range(0, len(bits), 6))
    if len(segment) > MAX_COMPRESSED_LENGTH:
        raise CompressionError(f"{len(segment)} characters compressed, at most {MAX_COMPRESSED_LENGTH}")
    return segment


def compress(
    link: DigitalLink,
    *,
    attributes: Mapping[str, str] | None = None,
    extensions: Mapping[str, str] | None = None,
    base_url: str | None = None,
    optimise: bool = True,
) -> str:
    """The compressed form of a Digital Link: its segment, or the whole URI on ``base_url``.

    ``attributes`` are more GS1 data attributes of the query (``{"3103": "000189"}``,
    validated as ``parse_query`` does); ``extensions`` other ``key=value`` pairs
    (``linkType``...), compressed too. Raises DigitalLinkError for an invalid
    link or attribute, CompressionError for what GS1's algorithm cannot write.
    """
    link.validate()
    dated = {"11": link.production_date, "17": link.expiry_date}
    elements = [("01", link.gtin14), *link.qualifiers()]
    elements += [(ai, f"{day:%y%m%d}") for ai, day in dated.items() if day is not None]
    extra = dict(attributes or {})
    parse_query("&".join(f"{ai}={quote(value, safe='')}" for ai, value in extra.items()))
    elements.extend(extra.items())
    segment = encode(elements, (extensions or {}).items(), optimise=optimise)
    return f"{base_url.rstrip('/')}/{segment}" if base_url is not None else segment
