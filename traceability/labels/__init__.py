"""QR images and label sheets: pure Python, no Flask, no database."""

from pathlib import Path

#: DejaVu Sans (regular and bold), embedded in PDFs for Vietnamese diacritics.
FONT_FOLDER = Path(__file__).parent / "fonts"
