"""Demo data for the dashboards and the yearly reports, on top of ``traceability.demo.loader``.

Adds what the centres' dashboards and reports need to show something in
every chart: a batch of ground coffee in each of the last 12 months, a
recall open and one closed, consumers' scans over the last 30 days, and each
centre's contracts, technology processes and S&T tasks linked to the demo
products. Dates of batches and scans count back from today, so the charts
are filled whatever day the demo is loaded; the contracts, processes and
tasks keep fixed dates, like the rest of the demo.

Everything is found in the database by the demo's names and written through
the services. ``load_demo_activity`` is idempotent: once the first demo
contract exists it adds nothing, so it can run both on a fresh demo and on
one loaded before these additions.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select

from traceability.batches.recalls import close_recall, recall_batch
from traceability.batches.service import create_batch, record_event
from traceability.core.dates import VIETNAM_OFFSET, month_start, utcnow, vietnam_today
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.public import Scan
from traceability.models.registry import Centre, Location, Product
from traceability.models.reports import CentreContract
from traceability.public.scan_rollups import add_to_daily_counts
from traceability.reports.centre_work import save_contract, save_process, save_task

# The product whose monthly batches fill "batches per month", and where they are made.
MONTHLY_PRODUCT = "Cà phê bột Robusta nguyên chất Hòa Phú 500 g"
MONTHLY_LOCATION = "Xưởng sơ chế và rang xay Hòa Phú"
MONTHLY_LOTS = 12
# (months ago, reason, closing note or None): recalls of the monthly batches.
RECALLS = (
    (4, "Van một chiều của một phần túi bị lỗi làm cà phê hút ẩm; thu hồi để kiểm tra lại.", None),
    (
        7,
        "Nhãn in sai hạn sử dụng trên 200 túi.",
        "Đã thu hồi đủ 200 túi, dán lại nhãn đúng; lô được lưu thông trở lại.",
    ),
)
# (lot code, fewest and most scans a day) of the demo batches consumers scan.
SCANNED_LOTS = (
    ("BOT2603A", 2, 9),
    ("RM2603", 0, 3),
    ("TIEU2602", 0, 2),
    ("CHE2610-01", 1, 4),
    ("YS2608", 0, 3),
    ("ST25-2604A", 1, 5),
    ("PQ43-2609", 0, 4),
    ("CV2611-05", 0, 6),
)
SCAN_DAYS = 30
MONTHLY_SCANS = "monthly"  # the monthly batches are scanned too, a little

# Each centre's own work, by province code; products by their demo names.
CONTRACTS: tuple[dict[str, Any], ...] = (
    {"province": "66", "kind": "technology_transfer", "number": "12/2024/HĐ-CGCN",
     "counterparty": "HTX Nông nghiệp Dịch vụ Cà phê Hòa Phú", "signed_on": date(2024, 4, 15),
     "value_vnd": 380_000_000, "description": "Chuyển giao quy trình rang cà phê bằng khí nóng, thiết bị 15 kg/mẻ.",
     "products": ("Cà phê Robusta rang mộc Hòa Phú", "Cà phê bột Robusta nguyên chất Hòa Phú 500 g")},
    {"province": "66", "kind": "technology_transfer", "number": "05/2026/HĐ-CGCN",
     "counterparty": "Hộ kinh doanh Mật ong Hoa cà phê Ea Kao", "signed_on": date(2026, 3, 20),
     "value_vnd": 145_000_000, "description": "Chuyển giao quy trình tách ẩm mật ong bằng sấy lạnh.",
     "products": ("Mật ong hoa cà phê Ea Kao",)},
    {"province": "66", "kind": "service", "number": "18/2026/HĐDV",
     "counterparty": "Công ty TNHH Nông sản Krông Pắc Xanh", "signed_on": date(2026, 6, 5),
     "value_vnd": 96_500_000,
     "description": "Phân tích dư lượng thuốc bảo vệ thực vật và cadimi cho vùng trồng sầu riêng xuất khẩu.",
     "products": ("Sầu riêng Ri6 Krông Pắc",)},
    {"province": "66", "kind": "service", "number": "22/2026/HĐDV",
     "counterparty": "Công ty TNHH Nông sản Krông Pắc Xanh", "signed_on": date(2026, 9, 12),
     "value_vnd": 48_000_000, "description": "Kiểm nghiệm chất lượng hồ tiêu theo TCVN 7036:2008.",
     "products": ("Hồ tiêu đen Krông Pắc 250 g",)},
    {"province": "66", "kind": "consulting", "number": "03/2026/HĐTV",
     "counterparty": "HTX Nông nghiệp Dịch vụ Cà phê Hòa Phú", "signed_on": date(2026, 2, 10),
     "value_vnd": 65_000_000, "description": "Tư vấn hồ sơ chứng nhận VietGAP và truy xuất nguồn gốc chuỗi cà phê.",
     "products": ("Cà phê nhân Robusta Buôn Ma Thuột",)},
    {"province": "40", "kind": "technology_transfer", "number": "09/2025/HĐ-CGCN",
     "counterparty": "HTX Chè xanh Hạnh Lâm", "signed_on": date(2025, 8, 12), "value_vnd": 260_000_000,
     "description": "Chuyển giao dây chuyền sao chè bán cơ giới.", "products": ("Chè xanh Hạnh Lâm hộp 200 g",)},
    {"province": "40", "kind": "service", "number": "31/2026/HĐDV",
     "counterparty": "Công ty TNHH Cam Vinh Phủ Quỳ", "signed_on": date(2026, 5, 18), "value_vnd": 72_000_000,
     "description": "Kiểm nghiệm dư lượng và chỉ tiêu vi sinh cho cam tươi và nước cam.",
     "products": ("Cam Vinh hộp 5 kg", "Nước cam Vinh ép nguyên chất 330 ml")},
    {"province": "40", "kind": "consulting", "number": "11/2026/HĐTV", "counterparty": "HTX Chè xanh Hạnh Lâm",
     "signed_on": date(2026, 7, 1), "value_vnd": 40_000_000,
     "description": "Tư vấn công bố tiêu chuẩn cơ sở cho tinh dầu sả chanh.",
     "products": ("Tinh dầu sả chanh Hạnh Lâm 50 ml",)},
    {"province": "92", "kind": "technology_transfer", "number": "02/2023/HĐ-CGCN",
     "counterparty": "Công ty TNHH Lúa gạo Mỹ Xuyên", "signed_on": date(2023, 9, 5), "value_vnd": 520_000_000,
     "description": "Chuyển giao quy trình canh tác lúa ST25 giảm phát thải.",
     "products": ("Gạo ST25 Mỹ Xuyên túi 5 kg",)},
    {"province": "92", "kind": "service", "number": "14/2026/HĐDV", "counterparty": "Công ty TNHH Lúa gạo Mỹ Xuyên",
     "signed_on": date(2026, 4, 20), "value_vnd": 85_000_000,
     "description": "Đo phát thải khí nhà kính trên cánh đồng lớn liên kết.", "products": ("Lúa ST25 (lúa tươi)",)},
    {"province": "56", "kind": "consulting", "number": "07/2026/HĐTV",
     "counterparty": "Công ty TNHH Yến sào Cam Ranh Biển Xanh", "signed_on": date(2026, 3, 3),
     "value_vnd": 55_000_000, "description": "Tư vấn hồ sơ OCOP 5 sao cấp quốc gia.",
     "products": ("Yến sào tinh chế Cam Ranh hộp 100 g",)},
    {"province": "38", "kind": "service", "number": "20/2026/HĐDV",
     "counterparty": "HTX Thủ công mỹ nghệ Cói Nga Sơn", "signed_on": date(2026, 8, 8), "value_vnd": 30_000_000,
     "description": "Thử nghiệm độ bền màu nhuộm tự nhiên của sợi cói.", "products": ("Chiếu cói Nga Sơn dệt tay 1,6 m",)},
)  # fmt: skip

PROCESSES: tuple[dict[str, Any], ...] = (
    {"province": "66", "name": "Quy trình rang cà phê Robusta bằng khí nóng", "mastered_on": date(2023, 11, 20),
     "products": ("Cà phê Robusta rang mộc Hòa Phú",)},
    {"province": "66", "name": "Quy trình sấy lạnh tách ẩm mật ong", "mastered_on": date(2026, 1, 15),
     "products": ("Mật ong hoa cà phê Ea Kao",)},
    {"province": "66", "name": "Quy trình nhân giống sầu riêng Ri6 bằng ghép mắt", "mastered_on": date(2026, 8, 28),
     "products": ("Sầu riêng Ri6 Krông Pắc",)},
    {"province": "40", "name": "Quy trình chưng cất tinh dầu sả chanh bằng hơi nước", "mastered_on": date(2025, 12, 1),
     "products": ("Tinh dầu sả chanh Hạnh Lâm 50 ml",)},
    {"province": "40", "name": "Quy trình ép lạnh và thanh trùng nhẹ nước cam", "mastered_on": date(2026, 4, 10),
     "products": ("Nước cam Vinh ép nguyên chất 330 ml",)},
    {"province": "92", "name": "Quy trình canh tác lúa ST25 giảm phát thải", "mastered_on": date(2023, 5, 10),
     "products": ("Lúa ST25 (lúa tươi)", "Gạo ST25 Mỹ Xuyên túi 5 kg")},
    {"province": "56", "name": "Quy trình sấy lạnh tổ yến tinh chế", "mastered_on": date(2025, 10, 20),
     "products": ("Yến sào tinh chế Cam Ranh hộp 100 g",)},
    {"province": "91", "name": "Quy trình cô đặc đường thốt nốt bằng chảo nhiệt gián tiếp",
     "mastered_on": date(2026, 2, 20), "products": ("Đường thốt nốt Bảy Núi",)},
)  # fmt: skip

TASKS: tuple[dict[str, Any], ...] = (
    {"province": "66", "code": "ĐTCS.2025-03", "level": "province", "status": "accepted",
     "name": "Ứng dụng công nghệ sấy lạnh nâng cao chất lượng mật ong hoa cà phê Đắk Lắk",
     "starts_on": date(2025, 3, 1), "ends_on": date(2026, 6, 30), "products": ("Mật ong hoa cà phê Ea Kao",)},
    {"province": "66", "code": "NVKHCN.2026-07", "level": "province", "status": "in_progress",
     "name": "Xây dựng mô hình truy xuất nguồn gốc chuỗi cà phê Robusta theo TCVN 12850:2019",
     "starts_on": date(2026, 2, 1), "ends_on": None,
     "products": ("Cà phê nhân Robusta Buôn Ma Thuột", "Cà phê bột Robusta nguyên chất Hòa Phú 500 g")},
    {"province": "40", "code": "ĐT.NA.2024-12", "level": "province", "status": "accepted",
     "name": "Hoàn thiện công nghệ sao chè xanh thủ công kết hợp thiết bị",
     "starts_on": date(2024, 6, 1), "ends_on": date(2026, 5, 31), "products": ("Chè xanh Hạnh Lâm hộp 200 g",)},
    {"province": "92", "code": "NV.CT.2025-02", "level": "ministry", "status": "in_progress",
     "name": "Nhân rộng mô hình canh tác lúa ST25 giảm phát thải khí nhà kính",
     "starts_on": date(2025, 1, 1), "ends_on": None, "products": ("Lúa ST25 (lúa tươi)",)},
    {"province": "24", "code": "ĐT.BN.2025-05", "level": "province", "status": "accepted",
     "name": "Ứng dụng công nghệ sấy bơm nhiệt cho vải thiều", "starts_on": date(2025, 4, 1),
     "ends_on": date(2026, 9, 30), "products": ("Vải thiều sấy khô Phượng Sơn 500 g",)},
)  # fmt: skip


def load_demo_activity() -> bool:
    """Add the dashboards' and reports' demo data unless it is there; whether anything was added."""
    first = CONTRACTS[0]
    marker = (
        select(CentreContract.id)
        .join(Centre, Centre.id == CentreContract.centre_id)
        .where(Centre.province_code == first["province"], CentreContract.number == first["number"])
    )
    if db.session.scalar(marker) is not None:
        return False
    staff = _centre_staff()
    if "66" not in staff:  # not the demo: nothing to build on
        return False
    products = {product.name: product for product in db.session.scalars(select(Product))}
    monthly = _load_monthly_batches(products, staff["66"])
    _load_recalls(monthly, staff["66"])
    _load_scans(monthly)
    _load_centre_work(products, staff)
    return True


def _centre_staff() -> dict[str, User]:
    """The first centre staff user of each centre, by province code."""
    rows = db.session.execute(
        select(Centre.province_code, User)
        .join(User, User.centre_id == Centre.id)
        .where(User.role == "centre_staff", User.active.is_(True))
        .order_by(User.id)
    )
    staff: dict[str, User] = {}
    for province_code, user in rows:
        staff.setdefault(province_code, user)
    return staff


def _vietnam_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=VIETNAM_OFFSET)


def _load_monthly_batches(products: dict[str, Product], staff: User) -> dict[int, Batch]:
    """A batch of ground coffee in each of the last 12 months, by months ago; never dated after now."""
    product = products.get(MONTHLY_PRODUCT)
    if product is None:
        return {}
    location = db.session.scalar(
        select(Location).where(Location.producer_id == product.producer_id, Location.name == MONTHLY_LOCATION)
    )
    writer = db.session.scalar(select(User).where(User.producer_id == product.producer_id)) or staff
    today, latest = vietnam_today(), utcnow() - timedelta(hours=1)
    batches = {}
    for months_ago in range(MONTHLY_LOTS - 1, -1, -1):
        first = month_start(today, -months_ago)
        production = min(first.replace(day=10), today)
        bags = 1000 + 40 * (months_ago + 1)
        batch = create_batch(
            {
                "product_id": product.id,
                "lot_code": f"BOT{first:%y%m}B",
                "production_date": production,
                "expiry_date": production + timedelta(days=365),
                "quantity": bags,
                "unit": "H87",
                "location_id": location.id if location else None,
            },
            actor=writer,
        )
        steps = (
            ("processing", 7, None, f"Xay {bags // 2} kg cà phê rang mộc, cỡ hạt cho pha phin."),
            ("packing", 15, bags, f"Đóng {bags} túi 500 g, dán tem QR truy xuất nguồn gốc."),
        )
        for offset, (event_type, hour, quantity, note) in enumerate(steps):
            moment = min(_vietnam_time(production, hour), latest - timedelta(hours=len(steps) - offset))
            record_event(
                batch,
                {
                    "type": event_type,
                    "time": moment.astimezone(VIETNAM_OFFSET),
                    "location_id": location.id if location else None,
                    "quantity": quantity,
                    "note": note,
                },
                actor=writer,
            )
        batches[months_ago] = batch
    return batches


def _load_recalls(monthly: dict[int, Batch], staff: User) -> None:
    """One recall still open, one the centre closed."""
    for months_ago, reason, closing in RECALLS:
        batch = monthly.get(months_ago)
        if batch is None:
            continue
        recall = recall_batch(batch, reason, actor=staff)
        if closing:
            close_recall(recall, closing, "returned_to_sale", actor=staff)  # relabelled, back on sale


def _load_scans(monthly: dict[int, Batch]) -> None:
    """Consumers' scans over the last 30 days, in daytime hours, never after now (one INSERT)."""
    rng = random.Random(2026)  # noqa: S311 - demo numbers, the same every time; nothing secret
    lots = dict(
        db.session.execute(
            select(Batch.lot_code, Batch.id).where(Batch.lot_code.in_([lot for lot, *_ in SCANNED_LOTS]))
        ).all()
    )
    targets = [(lots[lot], low, high) for lot, low, high in SCANNED_LOTS if lot in lots]
    targets += [(batch.id, 0, 1) for batch in monthly.values()]
    today, now = vietnam_today(), utcnow()
    rows = []
    for days_ago in range(SCAN_DAYS - 1, -1, -1):
        day = today - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        for batch_id, low, high in targets:
            for _ in range(rng.randint(low, high + (2 if weekend and high else 0))):
                moment = _vietnam_time(day, rng.randint(6, 21), rng.randint(0, 59))
                if moment > now:
                    continue
                rows.append(
                    {
                        "batch_id": batch_id,
                        "scanned_at": moment,
                        "language": "vi" if rng.random() < 0.85 else "en",
                        "device_class": rng.choices(("mobile", "tablet", "desktop"), (90, 4, 6))[0],
                    }
                )
    if rows:
        db.session.execute(insert(Scan), rows)
        add_to_daily_counts(db.session.connection(), rows)


def _linked(names: tuple[str, ...], products: dict[str, Product]) -> list[int]:
    return [products[name].id for name in names if name in products]


def _load_centre_work(products: dict[str, Product], staff: dict[str, User]) -> None:
    """Each demo centre's contracts, technology processes and S&T tasks, through the services."""
    for spec in CONTRACTS:
        if spec["province"] in staff:
            data = {key: value for key, value in spec.items() if key not in ("province", "products")}
            save_contract(
                {**data, "product_ids": _linked(spec["products"], products)}, actor=staff[spec["province"]]
            )
    for spec in PROCESSES:
        if spec["province"] in staff:
            data = {"name": spec["name"], "mastered_on": spec["mastered_on"]}
            save_process(
                {**data, "product_ids": _linked(spec["products"], products)}, actor=staff[spec["province"]]
            )
    for spec in TASKS:
        if spec["province"] in staff:
            data = {key: value for key, value in spec.items() if key not in ("province", "products")}
            save_task(
                {**data, "product_ids": _linked(spec["products"], products)}, actor=staff[spec["province"]]
            )
