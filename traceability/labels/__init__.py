"""QR images and label sheets: pure Python, no Flask, no database."""
