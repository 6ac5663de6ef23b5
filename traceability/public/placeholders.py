"""The designed placeholder of a product without a photo: an icon of its category (``static/img/categories``).

A product's category is free text ("Cà phê", "Trái cây tươi", "Mật ong"), so
it is read without diacritics, word by word; anything unknown gets the
generic package.
"""

from __future__ import annotations

import unicodedata

from traceability.core.text import fold
from traceability.models.registry import Product

# Folded words (or phrases) of a category, and the icon they call for; the first match wins.
CATEGORY_ICONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coffee", ("ca phe", "coffee", "cacao", "ca cao")),
    ("honey", ("mat ong", "honey", "phan hoa")),
    ("tea", ("chè", "trà", "tea", "atiso", "atisô")),
    ("rice", ("gao", "lua", "nep", "rice", "ngu coc", "bun", "pho", "mien")),
    ("pepper", ("tieu", "gia vi", "pepper", "spice", "ot", "que", "hoi", "gung")),
    (
        "fruit",
        ("trai cay", "hoa qua", "fruit", "sau rieng", "xoai", "vai", "nhan", "buoi", "thanh long", "cam"),
    ),
    ("handicraft", ("thu cong", "my nghe", "handicraft", "det", "may tre", "gom", "son mai", "lua to")),
    ("bottle", ("nuoc mam", "tinh dau", "do uong", "ruou", "nuoc", "drink", "sauce", "oil", "giam")),
)
GENERIC = "package"
ICONS = (*(icon for icon, _ in CATEGORY_ICONS), GENERIC)


def category_icon(category: str | None) -> str:
    """The icon's name for a category: ``coffee``, ``rice``, ``fruit``... or ``package``.

    A word written with its diacritics matches only so ("chè", tea, is not
    "chế", processing); the others match with or without them.
    """
    written = f" {' '.join(unicodedata.normalize('NFC', (category or '').lower()).split())} "
    folded = f" {' '.join(fold(category).split())} "
    for icon, words in CATEGORY_ICONS:
        if any(f" {word} " in (folded if word.isascii() else written) for word in words):
            return icon
    return GENERIC


def placeholder_path(product: Product) -> str:
    """The placeholder's file under ``static/``."""
    return f"img/categories/{category_icon(product.category)}.svg"
