"""Demo inspections: each centre's recent visits, in every state a centre follows up.

Dates count back from today so the demo always shows an overdue nonconformity,
one waiting for the producer, one answered and waiting for the centre, a closed
one and conforming visits, whatever day it is loaded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from traceability.core.dates import vietnam_today
from traceability.inspections.checklists import checklist_for
from traceability.inspections.service import answer_inspection, close_inspection, create_inspection
from traceability.models.accounts import User

# subject: a producer, location or batch key of traceability.demo.loader; "no" lists the items answered no.
DEMO_INSPECTIONS: tuple[dict[str, Any], ...] = (
    {
        "centre": "daklak",
        "kind": "batch",
        "subject": "cf_rang_2603",
        "days_ago": 40,
        "follow_up_days": 21,
        "no": ("labels_art_23_5",),
        "findings": "Nhãn gói 500 g chưa ghi hạn sử dụng và tiêu chuẩn áp dụng "
        "(Nghị định 37/2026/NĐ-CP Điều 23.5 h, i).",
        "severity": "major",
    },
    {
        "centre": "daklak",
        "kind": "location",
        "subject": "saurieng_farm",
        "days_ago": 12,
        "follow_up_days": 30,
        "no": ("storage",),
        "findings": "Phân bón để chung khu vực tập kết trái đã thu hoạch.",
        "severity": "minor",
        "answer": "Đã chuyển phân bón sang kho riêng có khoá, khu tập kết trái được che chắn.",
    },
    {
        "centre": "daklak",
        "kind": "batch",
        "subject": "sr_2605",
        "days_ago": 5,
        "follow_up_days": 15,
        "no": ("trace_back",),
        "findings": "Không xuất trình được phiếu nhập trái của các hộ liên kết cho lô này.",
        "severity": "critical",
    },
    {
        "centre": "daklak",
        "kind": "producer",
        "subject": "matong",
        "days_ago": 90,
        "follow_up_days": 30,
        "no": ("records_kept",),
        "findings": "Sổ ghi chép thu hoạch mật chưa cập nhật từ tháng trước.",
        "severity": "minor",
        "answer": "Đã cập nhật sổ thu hoạch và giao người ghi chép hằng ngày.",
        "closed": "Kiểm tra lại sổ: đạt.",
    },
    {"centre": "daklak", "kind": "producer", "subject": "caphe", "days_ago": 120},
    {
        "centre": "nghean",
        "kind": "producer",
        "subject": "che",
        "days_ago": 20,
        "follow_up_days": 30,
        "no": ("hygiene",),
        "findings": "Khu sao chè chưa có lưới chắn côn trùng.",
        "severity": "minor",
    },
    {"centre": "nghean", "kind": "batch", "subject": "cam_2611", "days_ago": 3},
)


def load_demo_inspections(
    staff: dict[str, User],
    producers: dict[str, Any],
    locations: dict[str, Any],
    batches: dict[str, Any],
    writers: dict[str, User],
) -> None:
    """Record the demo inspections through the services, with answers and closings."""
    today = vietnam_today()
    subjects = {"producer": producers, "location": locations, "batch": batches}
    for spec in DEMO_INSPECTIONS:
        subject = subjects[spec["kind"]][spec["subject"]]
        inspected_on = today - timedelta(days=spec["days_ago"])
        nonconforming = "severity" in spec
        data = {
            "subject_kind": spec["kind"],
            "subject_id": subject.id,
            "inspected_on": inspected_on,
            "inspector": staff[spec["centre"]].name,
            "checklist": [
                {"item": code, "answer": "no" if code in spec.get("no", ()) else "yes"}
                for code in checklist_for(spec["kind"])
            ],
            "findings": spec.get("findings", ""),
            "outcome": "nonconformity" if nonconforming else "conforming",
            "severity": spec.get("severity"),
            "follow_up_on": inspected_on + timedelta(days=spec["follow_up_days"]) if nonconforming else None,
        }
        inspection = create_inspection(data, actor=staff[spec["centre"]])
        key = _producer_key(inspection.producer_id, producers)
        producer_user = writers.get(key) if key is not None else None
        if spec.get("answer") and producer_user is not None and producer_user.role == "producer":
            answer_inspection(inspection, spec["answer"], actor=producer_user)
            if spec.get("closed"):
                close_inspection(inspection, spec["closed"], actor=staff[spec["centre"]])


def _producer_key(producer_id: int, producers: dict[str, Any]) -> str | None:
    return next((key for key, producer in producers.items() if producer.id == producer_id), None)
