"""Building inspection data and pictures for the inspection tests."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from traceability.core.dates import vietnam_today
from traceability.inspections.checklists import checklist_for

TODAY = vietnam_today()


def picture(kind: str = "PNG", size: tuple[int, int] = (900, 600), colour=(30, 120, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=kind)
    return buffer.getvalue()


def bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 megapixels in a few KB
    return buffer.getvalue()


NOT_AN_IMAGE = b"<html><body><script>alert(1)</script>anh kiem tra</body></html>"


def checklist(kind: str, **answers: str) -> list[dict[str, str]]:
    """Every item of ``kind``'s checklist answered yes, except those given."""
    return [
        {
            "item": code,
            "answer": answers.get(code, "yes"),
            "note": "Đạt" if answers.get(code, "yes") == "yes" else "",
        }
        for code in checklist_for(kind)
    ]


def nonconformity(kind: str, subject_id: int, **overrides: Any) -> dict[str, Any]:
    """A major nonconformity: labels lack the expiry date, to be fixed within 30 days."""
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "inspected_on": TODAY - timedelta(days=2),
        "inspector": "Nguyễn Văn Kiểm",
        "checklist": checklist(kind, labels_art_23_5="no"),
        "findings": "Nhãn không ghi hạn sử dụng (Điều 23.5 h).",
        "outcome": "nonconformity",
        "severity": "major",
        "follow_up_on": TODAY + timedelta(days=30),
        **overrides,
    }


def conforming(kind: str, subject_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "inspected_on": TODAY,
        "inspector": "Trần Thị Thanh",
        "checklist": checklist(kind),
        "findings": "",
        "outcome": "conforming",
        **overrides,
    }


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its dates as ISO strings, for the API."""
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in data.items()}


def files_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()
