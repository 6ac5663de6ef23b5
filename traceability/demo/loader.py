"""Realistic Vietnamese demo data for ``flask --app wsgi seed-demo``.

The data sits in module-level tables first; the loader functions below them
only turn rows into service calls, so every record has its audit entry.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import click
from flask import current_app
from sqlalchemy import func, select

from traceability.accounts.service import create_user
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.service import create_batch, public_url, record_event
from traceability.core.dates import VIETNAM_OFFSET, vietnam_today
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.demo.pictures import product_picture
from traceability.gs1 import gtin_check_digit
from traceability.inspections.demo import load_demo_inspections
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.registry import Centre, Certification, Location, Producer, Product
from traceability.registry.centres import centre_for_province, create_centre
from traceability.registry.certifications import create_certification, verify_certification
from traceability.registry.claims import current_claim
from traceability.registry.locations import create_location
from traceability.registry.producers import create_producer, reject_producer
from traceability.registry.product_claims import ocop_expiry, verify_claim
from traceability.registry.product_images import add_product_image
from traceability.registry.products import create_product
from traceability.reports.demo import load_demo_activity

DEMO_PASSWORD = "demo-2026-vn"  # noqa: S105 - a published demo password, never a real account
# The marker of a loaded demo: when this user exists, seed_demo adds nothing.
MINISTRY_EMAIL = "bo@demo.vn"
MINISTRY_NAME = "Trần Minh Đức"

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

# One centre per province; each gets {slug}.admin, {slug}.staff and {slug}.auditor @demo.vn.
CENTRES: tuple[dict[str, Any], ...] = (
    {
        "slug": "daklak",
        "province_code": "66",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh Đắk Lắk",
        "address": "15 Lê Duẩn, Phường Buôn Ma Thuột, tỉnh Đắk Lắk",
        "phone": "0262 3853 116",
        "email": "ttud.daklak@demo.vn",
        "staff": ("Nguyễn Thị Thu Hà", "H'Linh Mlô", "Lê Quang Vinh"),
    },
    {
        "slug": "nghean",
        "province_code": "40",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh Nghệ An",
        "address": "75 Nguyễn Thị Minh Khai, Phường Trường Vinh, tỉnh Nghệ An",
        "phone": "0238 3844 520",
        "email": "ttud.nghean@demo.vn",
        "staff": ("Hồ Sỹ Hùng", "Phan Thị Lan", "Đặng Văn Quý"),
    },
    {
        "slug": "thanhhoa",
        "province_code": "38",
        "name": "Trung tâm Ứng dụng và Chuyển giao công nghệ tỉnh Thanh Hóa",
        "address": "25 Hạc Thành, Phường Hạc Thành, tỉnh Thanh Hóa",
        "phone": "0237 3852 475",
        "email": "ttud.thanhhoa@demo.vn",
        "staff": ("Lê Văn Thắng", "Trịnh Thị Mai", "Mai Xuân Bình"),
    },
    {
        "slug": "khanhhoa",
        "province_code": "56",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh Khánh Hòa",
        "address": "2 Phan Chu Trinh, Phường Nha Trang, tỉnh Khánh Hòa",
        "phone": "0258 3822 410",
        "email": "ttud.khanhhoa@demo.vn",
        "staff": ("Võ Thị Ngọc Ánh", "Nguyễn Hữu Tài", "Trần Đình Phúc"),
    },
    {
        "slug": "angiang",
        "province_code": "91",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh An Giang",
        "address": "20 Trần Phú, Phường Rạch Giá, tỉnh An Giang",
        "phone": "0297 3862 315",
        "email": "ttud.angiang@demo.vn",
        "staff": ("Nguyễn Văn Tâm", "Lâm Thị Kim Ngân", "Huỳnh Công Danh"),
    },
    {
        "slug": "cantho",
        "province_code": "92",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ thành phố Cần Thơ",
        "address": "118/3 Trần Phú, Phường Cái Khế, thành phố Cần Thơ",
        "phone": "0292 3820 674",
        "email": "ttud.cantho@demo.vn",
        "staff": ("Trần Thanh Phong", "Lý Thị Mỹ Linh", "Thạch Sô Phal"),
    },
    {
        "slug": "bacninh",
        "province_code": "24",
        "name": "Trung tâm Ứng dụng tiến bộ Khoa học và Công nghệ tỉnh Bắc Ninh",
        "address": "48 Hoàng Văn Thụ, Phường Bắc Giang, tỉnh Bắc Ninh",
        "phone": "0204 3854 292",
        "email": "ttud.bacninh@demo.vn",
        "staff": ("Ngô Văn Hải", "Thân Thị Hoa", "Giáp Văn Long"),
    },
)
CENTRE_ROLES = (("admin", "centre_admin"), ("staff", "centre_staff"), ("auditor", "auditor"))

# Tax codes (MST) keep the old province prefix and carry a correct check digit
# (weights 31, 29, 23, 19, 17, 13, 7, 5, 3). ``gs1_prefix`` is the producer's
# GS1 company prefix: GTINs and GLNs get their check digit computed at load.
# ``user`` is the producer's own login; without one, centre staff keep its records.
PRODUCERS: tuple[dict[str, Any], ...] = (
    # Đắk Lắk
    {
        "key": "caphe",
        "centre": "daklak",
        "name": "HTX Nông nghiệp Dịch vụ Cà phê Hòa Phú",
        "kind": "cooperative",
        "tax_code": "6001274854",
        "ward": "Xã Hòa Phú",
        "street": "Thôn 4",
        "phone": "0905 214 386",
        "email": "lienhe.caphehoaphu@demo.vn",
        "gs1_prefix": "89360451",
        "user": ("htx.caphe@demo.vn", "Y Moan Byă"),
    },
    {
        "key": "saurieng",
        "centre": "daklak",
        "name": "Công ty TNHH Nông sản Krông Pắc Xanh",
        "kind": "enterprise",
        "tax_code": "6002193566",
        "ward": "Xã Krông Pắc",
        "street": "Km 32 Quốc lộ 26",
        "phone": "0262 3521 808",
        "email": "info.krongpacxanh@demo.vn",
        "gs1_prefix": "89360452",
        "user": ("cty.saurieng@demo.vn", "Phạm Đức Thịnh"),
    },
    {
        "key": "matong",
        "centre": "daklak",
        "name": "Hộ kinh doanh Mật ong Hoa cà phê Ea Kao",
        "kind": "household",
        "tax_code": None,  # a small household business without its own MST
        "ward": "Xã Ea Kao",
        "street": "Buôn Ea Kao",
        "phone": "0978 552 147",
        "user": ("ho.matong@demo.vn", "Nguyễn Thị Hạnh"),
    },
    # Nghệ An
    {
        "key": "che",
        "centre": "nghean",
        "name": "HTX Chè xanh Hạnh Lâm",
        "kind": "cooperative",
        "tax_code": "2901846271",
        "ward": "Xã Hạnh Lâm",
        "street": "Xóm 3",
        "phone": "0915 373 284",
        "email": "htx.chehanhlam@demo.vn",
        "gs1_prefix": "89360453",
        "user": ("htx.che@demo.vn", "Nguyễn Văn Lực"),
    },
    {
        "key": "cam",
        "centre": "nghean",
        "name": "Công ty TNHH Cam Vinh Phủ Quỳ",
        "kind": "enterprise",
        "tax_code": "2902317457",
        "ward": "Xã Quỳ Hợp",
        "street": "Khối 7",
        "phone": "0238 3883 169",
        "email": "kinhdoanh.camphuquy@demo.vn",
        "gs1_prefix": "89360454",
    },
    {
        "key": "tuong",
        "centre": "nghean",
        "name": "Hộ kinh doanh Tương Nam Đàn Bà Tám",
        "kind": "household",
        "tax_code": "2903120580",
        "ward": "Xã Nam Đàn",
        "street": "Xóm Hồng Sơn",
        "phone": "0986 140 925",
        "pending": True,  # signed up by itself, waiting for the centre's approval
    },
    # Thanh Hóa
    {
        "key": "coi",
        "centre": "thanhhoa",
        "name": "HTX Thủ công mỹ nghệ Cói Nga Sơn",
        "kind": "cooperative",
        "tax_code": "2801473629",
        "ward": "Xã Nga Sơn",
        "street": "Thôn Hậu Trạch",
        "phone": "0237 3872 316",
        "email": "htx.coingason@demo.vn",
        "gs1_prefix": "89360455",
        "user": ("htx.coi@demo.vn", "Mai Thị Duyên"),
    },
    {
        "key": "buoi",
        "centre": "thanhhoa",
        "name": "HTX Bưởi Luận Văn Thọ Xuân",
        "kind": "cooperative",
        "tax_code": "2802059146",
        "ward": "Xã Thọ Xuân",
        "street": "Làng Luận Văn",
        "phone": "0912 608 431",
    },
    {
        "key": "maytre",
        "centre": "thanhhoa",
        "name": "Hộ kinh doanh Mây tre đan Lê Văn Hòa",
        "kind": "household",
        "tax_code": "2803184728",
        "ward": "Xã Hoằng Hóa",
        "street": "Thôn Đông",
        "phone": "0397 215 660",
    },
    # Khánh Hòa
    {
        "key": "nuocmam_nt",
        "centre": "khanhhoa",
        "name": "Công ty TNHH Nước mắm Cá cơm Hòn Tre",
        "kind": "enterprise",
        "tax_code": "4201635871",
        "ward": "Phường Bắc Nha Trang",
        "street": "14 Đường 2 Tháng 4",
        "phone": "0258 3831 572",
        "email": "sales.nuocmamhontre@demo.vn",
        "gs1_prefix": "89360456",
    },
    {
        "key": "yen",
        "centre": "khanhhoa",
        "name": "Công ty TNHH Yến sào Cam Ranh Biển Xanh",
        "kind": "enterprise",
        "tax_code": "4202287419",
        "ward": "Phường Cam Ranh",
        "street": "86 Nguyễn Trọng Kỷ",
        "phone": "0258 3952 008",
        "email": "info.yensaocamranh@demo.vn",
        "gs1_prefix": "89360457",
    },
    # An Giang
    {
        "key": "nuocmam_pq",
        "centre": "angiang",
        "name": "Công ty TNHH Nước mắm Phú Quốc Hưng Thịnh",
        "kind": "enterprise",
        "tax_code": "1701392646",
        "ward": "Đặc khu Phú Quốc",
        "street": "Khu phố 7, Dương Đông",
        "phone": "0297 3846 133",
        "email": "order.nuocmamhungthinh@demo.vn",
        "gs1_prefix": "89360458",
        "user": ("cty.nuocmam@demo.vn", "Trần Văn Hưng"),
    },
    {
        "key": "thotnot",
        "centre": "angiang",
        "name": "Hộ kinh doanh Đường thốt nốt Chau Sóc Kha",
        "kind": "household",
        "tax_code": None,
        "ward": "Xã Tri Tôn",
        "street": "Ấp Tà Lọt",
        "phone": "0944 318 572",
    },
    # Cần Thơ (the former Sóc Trăng, home of ST25 rice)
    {
        "key": "gao",
        "centre": "cantho",
        "name": "Công ty TNHH Lúa gạo Mỹ Xuyên",
        "kind": "enterprise",
        "tax_code": "2201584736",
        "ward": "Phường Mỹ Xuyên",
        "street": "Ấp Hòa Lời",
        "phone": "0299 3851 246",
        "email": "kinhdoanh.gaomyxuyen@demo.vn",
        "gs1_prefix": "89360459",
        "user": ("cty.gao@demo.vn", "Lâm Văn Sang"),
    },
    # Bắc Ninh (the former Bắc Giang, home of Lục Ngạn lychee)
    {
        "key": "vai",
        "centre": "bacninh",
        "name": "HTX Vải thiều Phượng Sơn",
        "kind": "cooperative",
        "tax_code": "2401726917",
        "ward": "Xã Phượng Sơn",
        "street": "Thôn Mai Hoa",
        "phone": "0204 3882 519",
        "email": "htx.vaiphuongson@demo.vn",
        "gs1_prefix": "89360460",
        "user": ("htx.vai@demo.vn", "Thân Văn Bình"),
    },
)

# ``gln_ref`` completes the producer's GS1 prefix to a GLN; None keeps the internal code.
LOCATIONS: tuple[dict[str, Any], ...] = (
    {"key": "caphe_farm", "producer": "caphe", "kind": "farm", "gln_ref": "9001",
     "name": "Vùng trồng cà phê Hòa Phú (120 ha)", "ward": "Xã Hòa Phú", "street": "Thôn 4 và Thôn 6",
     "latitude": 12.6005, "longitude": 107.9752},
    {"key": "caphe_roastery", "producer": "caphe", "kind": "facility", "gln_ref": "9002",
     "name": "Xưởng sơ chế và rang xay Hòa Phú", "ward": "Xã Hòa Phú", "street": "Thôn 4",
     "latitude": 12.6071, "longitude": 107.9824},
    {"key": "caphe_store", "producer": "caphe", "kind": "warehouse", "gln_ref": None,
     "name": "Kho thành phẩm Buôn Ma Thuột", "ward": "Phường Buôn Ma Thuột", "street": "212 Nguyễn Tất Thành",
     "latitude": 12.6797, "longitude": 108.0505},
    {"key": "saurieng_farm", "producer": "saurieng", "kind": "farm", "gln_ref": "9001",
     "name": "Vườn sầu riêng xen tiêu Krông Pắc (mã vùng trồng VN-DLOR-0112)", "ward": "Xã Krông Pắc",
     "street": "Thôn Tân Hòa", "latitude": 12.7102, "longitude": 108.3011},
    {"key": "saurieng_packhouse", "producer": "saurieng", "kind": "facility", "gln_ref": None,
     "name": "Cơ sở đóng gói sầu riêng xuất khẩu", "ward": "Xã Krông Pắc", "street": "Km 32 Quốc lộ 26",
     "latitude": 12.7188, "longitude": 108.2915},
    {"key": "matong_apiary", "producer": "matong", "kind": "farm", "gln_ref": None,
     "name": "Trại ong Ea Kao", "ward": "Xã Ea Kao", "street": "Buôn Ea Kao",
     "latitude": 12.6279, "longitude": 108.0848},
    {"key": "che_hill", "producer": "che", "kind": "farm", "gln_ref": "9001",
     "name": "Đồi chè Hạnh Lâm (45 ha)", "ward": "Xã Hạnh Lâm", "street": "Xóm 3",
     "latitude": 18.8337, "longitude": 105.1481},
    {"key": "che_factory", "producer": "che", "kind": "facility", "gln_ref": None,
     "name": "Xưởng chế biến chè Hạnh Lâm", "ward": "Xã Hạnh Lâm", "street": "Xóm 4",
     "latitude": 18.8362, "longitude": 105.1527},
    {"key": "cam_orchard", "producer": "cam", "kind": "farm", "gln_ref": "9001",
     "name": "Vườn cam Vinh Quỳ Hợp (VietGAP)", "ward": "Xã Quỳ Hợp", "street": "Bản Tân Hợp",
     "latitude": 19.3284, "longitude": 105.1763},
    {"key": "coi_workshop", "producer": "coi", "kind": "facility", "gln_ref": None,
     "name": "Xưởng dệt chiếu cói Nga Sơn", "ward": "Xã Nga Sơn", "street": "Thôn Hậu Trạch",
     "latitude": 20.0047, "longitude": 105.9721},
    {"key": "buoi_orchard", "producer": "buoi", "kind": "farm", "gln_ref": None,
     "name": "Vùng bưởi Luận Văn", "ward": "Xã Thọ Xuân", "street": "Làng Luận Văn",
     "latitude": 19.9316, "longitude": 105.4798},
    {"key": "maytre_workshop", "producer": "maytre", "kind": "facility", "gln_ref": None,
     "name": "Cơ sở đan mây tre Lê Văn Hòa", "ward": "Xã Hoằng Hóa", "street": "Thôn Đông",
     "latitude": 19.8592, "longitude": 105.8547},
    {"key": "nt_vats", "producer": "nuocmam_nt", "kind": "facility", "gln_ref": "9001",
     "name": "Nhà thùng ủ chượp Hòn Tre", "ward": "Phường Bắc Nha Trang", "street": "14 Đường 2 Tháng 4",
     "latitude": 12.2861, "longitude": 109.1964},
    {"key": "yen_workshop", "producer": "yen", "kind": "facility", "gln_ref": None,
     "name": "Xưởng sơ chế yến sào Cam Ranh", "ward": "Phường Cam Ranh", "street": "86 Nguyễn Trọng Kỷ",
     "latitude": 11.9214, "longitude": 109.1591},
    {"key": "pq_vats", "producer": "nuocmam_pq", "kind": "facility", "gln_ref": "9001",
     "name": "Nhà thùng nước mắm Dương Đông", "ward": "Đặc khu Phú Quốc", "street": "Khu phố 7, Dương Đông",
     "latitude": 10.2226, "longitude": 103.9607},
    {"key": "pq_bottling", "producer": "nuocmam_pq", "kind": "warehouse", "gln_ref": "9002",
     "name": "Kho đóng chai An Thới", "ward": "Đặc khu Phú Quốc", "street": "Khu phố 3, An Thới",
     "latitude": 10.0289, "longitude": 104.0120},
    {"key": "thotnot_kitchen", "producer": "thotnot", "kind": "facility", "gln_ref": None,
     "name": "Lò nấu đường thốt nốt Tà Lọt", "ward": "Xã Tri Tôn", "street": "Ấp Tà Lọt",
     "latitude": 10.4173, "longitude": 104.9886},
    {"key": "gao_fields", "producer": "gao", "kind": "farm", "gln_ref": "9001",
     "name": "Cánh đồng lớn lúa ST25 Mỹ Xuyên (85 ha)", "ward": "Phường Mỹ Xuyên", "street": "Ấp Hòa Lời",
     "latitude": 9.5431, "longitude": 105.9772},
    {"key": "gao_mill", "producer": "gao", "kind": "facility", "gln_ref": "9002",
     "name": "Nhà máy xay xát Mỹ Xuyên", "ward": "Phường Mỹ Xuyên", "street": "Quốc lộ 1A, Ấp Hòa Lời",
     "latitude": 9.5602, "longitude": 105.9839},
    {"key": "vai_orchard", "producer": "vai", "kind": "farm", "gln_ref": "9001",
     "name": "Vùng vải thiều VietGAP Phượng Sơn", "ward": "Xã Phượng Sơn", "street": "Thôn Mai Hoa",
     "latitude": 21.3792, "longitude": 106.6148},
    {"key": "vai_dryer", "producer": "vai", "kind": "facility", "gln_ref": None,
     "name": "Lò sấy vải Phượng Sơn", "ward": "Xã Phượng Sơn", "street": "Thôn Mai Hoa",
     "latitude": 21.3755, "longitude": 106.6183},
)  # fmt: skip

SHOPEE, TIKI = "Shopee", "Tiki"

# ``gtin_item`` completes the producer's GS1 prefix to a GTIN-13 (the check digit
# is computed at load); ``ocop`` is (group, stars, decision number, issued on):
# the province certifies 3-4 stars, the central council 5 stars.
PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "key": "cf_nhan",
        "producer": "caphe",
        "name": "Cà phê nhân Robusta Buôn Ma Thuột",
        "name_en": "Buon Ma Thuot Robusta green coffee",
        "category": "Cà phê",
        "brand": "Hòa Phú",
        "description": "Cà phê nhân Robusta hái chín, phơi giàn, phân loại sàng 16; "
        "mang chỉ dẫn địa lý Buôn Ma Thuột. Bán xá cho nhà rang xay và xuất khẩu.",
        "standards": "TCVN 4193:2014",
        "is_flagship": True,
        "declared_revenue_vnd": 18_600_000_000,
    },
    {
        "key": "cf_rang",
        "producer": "caphe",
        "name": "Cà phê Robusta rang mộc Hòa Phú",
        "name_en": "Hoa Phu roasted Robusta coffee beans",
        "category": "Cà phê",
        "brand": "Hòa Phú",
        "gtin_item": "0012",
        "description": "Hạt Robusta Buôn Ma Thuột rang mộc bằng khí nóng, không tẩm ướp, túi van một chiều 500 g.",
        "standards": "TCVN 5250:2015, QCVN 8-2:2011/BYT",
        "ocop": ("food", 4, "3214/QĐ-UBND", date(2025, 9, 12)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/caphehoaphu.official"},
            {"name": "Website HTX", "url": "https://caphehoaphu.demo.vn/san-pham/rang-moc"},
        ],
        "tech_origin": "Chuyển giao quy trình rang cà phê bằng khí nóng, "
        "Trung tâm Ứng dụng tiến bộ KH&CN tỉnh Đắk Lắk (2024)",
        "declared_revenue_vnd": 6_200_000_000,
    },
    {
        "key": "cf_bot",
        "producer": "caphe",
        "name": "Cà phê bột Robusta nguyên chất Hòa Phú 500 g",
        "name_en": "Hoa Phu pure ground Robusta coffee 500 g",
        "category": "Cà phê",
        "brand": "Hòa Phú",
        "gtin_item": "0029",
        "description": "Cà phê bột nguyên chất, xay mịn cho pha phin; không phụ gia, không hương liệu.",
        "standards": "TCVN 5251:2015, QCVN 8-2:2011/BYT",
        "is_flagship": True,
        "ocop": ("food", 4, "3214/QĐ-UBND", date(2025, 9, 12)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/caphehoaphu.official"},
            {"name": TIKI, "url": "https://tiki.vn/ca-phe-bot-robusta-hoa-phu-500g-p27418822.html"},
        ],
        "declared_revenue_vnd": 9_800_000_000,
    },
    {
        "key": "sr_ri6",
        "producer": "saurieng",
        "name": "Sầu riêng Ri6 Krông Pắc",
        "name_en": "Krong Pac Ri6 durian",
        "category": "Trái cây tươi",
        "brand": "Krông Pắc Xanh",
        "description": "Sầu riêng Ri6 cơm vàng, hạt lép, từ vùng trồng được cấp mã số xuất khẩu.",
        "standards": "TCVN 11892-1:2017",
        "is_flagship": True,
        "declared_revenue_vnd": 42_000_000_000,
    },
    {
        "key": "tieu",
        "producer": "saurieng",
        "name": "Hồ tiêu đen Krông Pắc 250 g",
        "name_en": "Krong Pac black pepper 250 g",
        "category": "Gia vị",
        "brand": "Krông Pắc Xanh",
        "gtin_item": "0013",
        "description": "Tiêu đen trồng xen trong vườn sầu riêng, phơi nắng, dung trọng 550 g/l.",
        "standards": "TCVN 7036:2008",
        "ocop": ("food", 3, "1587/QĐ-UBND", date(2024, 6, 20)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/krongpacxanh"}],
        "declared_revenue_vnd": 1_250_000_000,
    },
    {
        "key": "matong",
        "producer": "matong",
        "name": "Mật ong hoa cà phê Ea Kao",
        "name_en": "Ea Kao coffee blossom honey",
        "category": "Mật ong",
        "brand": "Ea Kao",
        "description": "Mật ong thu từ đàn ong nuôi trong vườn cà phê mùa hoa tháng 2-3, chai 500 ml.",
        "standards": "TCVN 5267-1:2008",
        "ocop": ("food", 3, "2890/QĐ-UBND", date(2025, 8, 15)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/matongeakao"}],
        "declared_revenue_vnd": 850_000_000,
    },
    {
        "key": "che_xanh",
        "producer": "che",
        "name": "Chè xanh Hạnh Lâm hộp 200 g",
        "name_en": "Hanh Lam green tea 200 g",
        "category": "Chè",
        "brand": "Chè Hạnh Lâm",
        "gtin_item": "0011",
        "description": "Chè búp một tôm hai lá từ đồi chè Thanh Chương, sao khô thủ công trên chảo gang.",
        "standards": "TCVN 9740:2013",
        "is_flagship": True,
        "ocop": ("food", 4, "4120/QĐ-UBND", date(2025, 12, 5)),
        "shop_links": [{"name": TIKI, "url": "https://tiki.vn/che-xanh-hanh-lam-200g-p31870245.html"}],
        "declared_revenue_vnd": 3_400_000_000,
    },
    {
        "key": "tinh_dau",
        "producer": "che",
        "name": "Tinh dầu sả chanh Hạnh Lâm 50 ml",
        "name_en": "Hanh Lam lemongrass essential oil 50 ml",
        "category": "Tinh dầu",
        "brand": "Chè Hạnh Lâm",
        "gtin_item": "0028",
        "description": "Tinh dầu chưng cất hơi nước từ sả chanh trồng xen đồi chè.",
        "standards": "TCCS 02:2025/HTXHL",
        "ocop": ("herbal", 3, "4120/QĐ-UBND", date(2025, 12, 5)),
        "declared_revenue_vnd": 420_000_000,
    },
    {
        "key": "cam_vinh",
        "producer": "cam",
        "name": "Cam Vinh hộp 5 kg",
        "name_en": "Vinh oranges, 5 kg box",
        "category": "Trái cây tươi",
        "brand": "Cam Phủ Quỳ",
        "gtin_item": "0010",
        "description": "Cam Vinh (chỉ dẫn địa lý) vỏ mỏng, mọng nước, thu hoạch tháng 10 đến tháng 12.",
        "standards": "TCVN 11892-1:2017",
        "is_flagship": True,
        "ocop": ("food", 4, "3677/QĐ-UBND", date(2024, 11, 28)),
        "shop_links": [
            {"name": TIKI, "url": "https://tiki.vn/cam-vinh-hop-5kg-p29904417.html"},
            {"name": "Website", "url": "https://camphuquy.demo.vn"},
        ],
        "declared_revenue_vnd": 25_000_000_000,
    },
    {
        "key": "nuoc_cam",
        "producer": "cam",
        "name": "Nước cam Vinh ép nguyên chất 330 ml",
        "name_en": "Pure Vinh orange juice 330 ml",
        "category": "Đồ uống",
        "brand": "Cam Phủ Quỳ",
        "gtin_item": "0027",
        "description": "Nước cam ép lạnh, thanh trùng nhẹ, không đường, không chất bảo quản.",
        "standards": "QCVN 6-2:2010/BYT",
        "ocop": ("beverage", 3, "3677/QĐ-UBND", date(2024, 11, 28)),
        "declared_revenue_vnd": 1_900_000_000,
    },
    {
        "key": "chieu_coi",
        "producer": "coi",
        "name": "Chiếu cói Nga Sơn dệt tay 1,6 m",
        "name_en": "Nga Son hand-woven sedge mat 1.6 m",
        "category": "Thủ công mỹ nghệ",
        "brand": "Cói Nga Sơn",
        "description": "Chiếu cói se sợi đôi, nhuộm màu tự nhiên, dệt tay trên khung gỗ truyền thống.",
        "is_flagship": True,
        "ocop": ("handicraft", 4, "2415/QĐ-UBND", date(2025, 7, 10)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/coingason.htx"}],
        "declared_revenue_vnd": 4_500_000_000,
    },
    {
        "key": "tui_coi",
        "producer": "coi",
        "name": "Túi xách cói Nga Sơn",
        "name_en": "Nga Son sedge handbag",
        "category": "Thủ công mỹ nghệ",
        "brand": "Cói Nga Sơn",
        "gtin_item": "0018",
        "description": "Túi cói đan tay, quai da, lót vải bố; mẫu xuất khẩu sang Nhật Bản.",
        "ocop": ("handicraft", 3, "2415/QĐ-UBND", date(2025, 7, 10)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/coingason.htx"},
            {"name": TIKI, "url": "https://tiki.vn/tui-xach-coi-nga-son-p30551270.html"},
        ],
        "declared_revenue_vnd": 2_100_000_000,
    },
    {
        "key": "buoi",
        "producer": "buoi",
        "name": "Bưởi Luận Văn",
        "name_en": "Luan Van pomelo",
        "category": "Trái cây tươi",
        "brand": "Bưởi Luận Văn",
        "description": "Bưởi đặc sản làng Luận Văn, múi vàng ngà, vị ngọt thanh, thu hoạch tháng 9-10.",
        "standards": "TCVN 11892-1:2017",
        "is_flagship": True,
        "ocop": ("food", 4, "1120/QĐ-UBND", date(2024, 4, 18)),
        "declared_revenue_vnd": 7_200_000_000,
    },
    {
        "key": "gio_may",
        "producer": "maytre",
        "name": "Bộ giỏ mây tre đan (3 chiếc)",
        "name_en": "Rattan and bamboo baskets, set of 3",
        "category": "Thủ công mỹ nghệ",
        "brand": "Mây tre Lê Hòa",
        "description": "Giỏ đan tay từ mây rừng và tre ngâm bùn chống mối mọt.",
        "ocop": ("handicraft", 3, "2415/QĐ-UBND", date(2025, 7, 10)),
        "declared_revenue_vnd": 620_000_000,
    },
    {
        "key": "nm_nt40",
        "producer": "nuocmam_nt",
        "name": "Nước mắm cá cơm Nha Trang 40 độ đạm 500 ml",
        "name_en": "Nha Trang anchovy fish sauce 40°N, 500 ml",
        "category": "Nước mắm",
        "brand": "Hòn Tre",
        "gtin_item": "0014",
        "description": "Nước mắm nhĩ từ cá cơm than và muối Hòn Khói, ủ chượp 12 tháng trong thùng gỗ.",
        "standards": "TCVN 5107:2018, QCVN 8-2:2011/BYT",
        "is_flagship": True,
        "ocop": ("food", 4, "2034/QĐ-UBND", date(2025, 5, 22)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/nuocmamhontre"},
            {"name": TIKI, "url": "https://tiki.vn/nuoc-mam-hon-tre-40-do-dam-p28810036.html"},
        ],
        "declared_revenue_vnd": 15_300_000_000,
    },
    {
        "key": "nm_nt30",
        "producer": "nuocmam_nt",
        "name": "Nước mắm Hòn Tre 30 độ đạm 1 lít",
        "name_en": "Hon Tre fish sauce 30°N, 1 litre",
        "category": "Nước mắm",
        "brand": "Hòn Tre",
        "gtin_item": "0021",
        "description": "Nước mắm truyền thống dùng hằng ngày, chai PET 1 lít.",
        "standards": "TCVN 5107:2018",
        "declared_revenue_vnd": 5_100_000_000,
    },
    {
        "key": "yen",
        "producer": "yen",
        "name": "Yến sào tinh chế Cam Ranh hộp 100 g",
        "name_en": "Cam Ranh cleaned edible bird's nest 100 g",
        "category": "Yến sào",
        "brand": "Biển Xanh",
        "gtin_item": "0015",
        "description": "Tổ yến đảo làm sạch lông thủ công, sấy lạnh, hộp quà 100 g.",
        "standards": "QCVN 8-2:2011/BYT, QCVN 8-3:2012/BYT",
        "is_flagship": True,
        "ocop": ("food", 5, "1019/QĐ-BNNMT", date(2025, 10, 30)),
        "shop_links": [
            {"name": TIKI, "url": "https://tiki.vn/yen-sao-tinh-che-cam-ranh-100g-p33017562.html"}
        ],
        "declared_revenue_vnd": 21_500_000_000,
    },
    {
        "key": "nuoc_yen",
        "producer": "yen",
        "name": "Nước yến sào Cam Ranh lon 190 ml",
        "name_en": "Cam Ranh bird's nest drink 190 ml",
        "category": "Đồ uống",
        "brand": "Biển Xanh",
        "gtin_item": "0022",
        "description": "Nước yến chưng đường phèn, 12% tổ yến, lon 190 ml.",
        "standards": "QCVN 6-2:2010/BYT",
        "ocop": ("beverage", 4, "2034/QĐ-UBND", date(2025, 5, 22)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/yensaobienxanh"}],
        "declared_revenue_vnd": 8_700_000_000,
    },
    {
        "key": "nm_pq43",
        "producer": "nuocmam_pq",
        "name": "Nước mắm Phú Quốc 43 độ đạm chai thủy tinh 500 ml",
        "name_en": "Phu Quoc fish sauce 43°N, 500 ml glass bottle",
        "category": "Nước mắm",
        "brand": "Hưng Thịnh Phú Quốc",
        "gtin_item": "0016",
        "description": "Nước mắm cốt cá cơm than ủ thùng gỗ bời lời; chỉ dẫn địa lý Phú Quốc, "
        "được bảo hộ tên gọi xuất xứ tại Liên minh châu Âu.",
        "standards": "TCVN 5107:2018, QCVN 8-2:2011/BYT",
        "is_flagship": True,
        "ocop": ("food", 5, "1019/QĐ-BNNMT", date(2025, 10, 30)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/nuocmamhungthinh.phuquoc"},
            {"name": TIKI, "url": "https://tiki.vn/nuoc-mam-phu-quoc-43-do-dam-p26604318.html"},
        ],
        "declared_revenue_vnd": 32_000_000_000,
    },
    {
        "key": "nm_pq35",
        "producer": "nuocmam_pq",
        "name": "Nước mắm Phú Quốc 35 độ đạm can 2 lít",
        "name_en": "Phu Quoc fish sauce 35°N, 2 litre can",
        "category": "Nước mắm",
        "brand": "Hưng Thịnh Phú Quốc",
        "gtin_item": "0023",
        "description": "Nước mắm Phú Quốc cho bếp ăn gia đình và nhà hàng, can 2 lít.",
        "standards": "TCVN 5107:2018",
        "ocop": ("food", 4, "1850/QĐ-UBND", date(2026, 3, 18)),
        "declared_revenue_vnd": 6_800_000_000,
    },
    {
        "key": "duong_tn",
        "producer": "thotnot",
        "name": "Đường thốt nốt Bảy Núi",
        "name_en": "Bay Nui palm sugar",
        "category": "Đường",
        "brand": "Chau Sóc Kha",
        "description": "Đường nấu từ nước thốt nốt trên bếp củi của đồng bào Khmer vùng Bảy Núi, gói 500 g.",
        "ocop": ("food", 3, "1850/QĐ-UBND", date(2026, 3, 18)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/duongthotnot.baynui"}],
        "declared_revenue_vnd": 480_000_000,
    },
    {
        "key": "lua_st25",
        "producer": "gao",
        "name": "Lúa ST25 (lúa tươi)",
        "name_en": "ST25 paddy",
        "category": "Lúa gạo",
        "brand": "Mỹ Xuyên",
        "description": "Lúa ST25 vụ Đông Xuân từ cánh đồng lớn liên kết, nguyên liệu cho nhà máy xay xát.",
        "standards": "TCVN 11892-1:2017",
    },
    {
        "key": "gao_st25",
        "producer": "gao",
        "name": "Gạo ST25 Mỹ Xuyên túi 5 kg",
        "name_en": "My Xuyen ST25 fragrant rice 5 kg",
        "category": "Lúa gạo",
        "brand": "Mỹ Xuyên",
        "gtin_item": "0017",
        "description": "Gạo thơm ST25, hạt dài, cơm dẻo, thơm mùi lá dứa; xay xát và đóng túi hút chân không.",
        "standards": "TCVN 11888:2017, QCVN 8-2:2011/BYT",
        "is_flagship": True,
        "ocop": ("food", 4, "0987/QĐ-UBND", date(2025, 4, 10)),
        "shop_links": [
            {"name": SHOPEE, "url": "https://shopee.vn/gaomyxuyen.st25"},
            {"name": TIKI, "url": "https://tiki.vn/gao-st25-my-xuyen-tui-5kg-p25561740.html"},
        ],
        "tech_origin": "Quy trình canh tác lúa ST25 giảm phát thải, chuyển giao năm 2023",
        "declared_revenue_vnd": 56_000_000_000,
    },
    {
        "key": "vai_tuoi",
        "producer": "vai",
        "name": "Vải thiều Lục Ngạn",
        "name_en": "Luc Ngan lychee",
        "category": "Trái cây tươi",
        "brand": "Vải thiều Phượng Sơn",
        "description": "Vải thiều chín tự nhiên, vỏ đỏ, cùi dày, hạt nhỏ; vùng trồng đạt VietGAP và GlobalGAP.",
        "standards": "TCVN 11892-1:2017",
        "is_flagship": True,
        "ocop": ("food", 4, "1312/QĐ-UBND", date(2024, 5, 28)),
        "declared_revenue_vnd": 38_000_000_000,
    },
    {
        "key": "vai_say",
        "producer": "vai",
        "name": "Vải thiều sấy khô Phượng Sơn 500 g",
        "name_en": "Dried Luc Ngan lychee 500 g",
        "category": "Trái cây sấy",
        "brand": "Vải thiều Phượng Sơn",
        "gtin_item": "0025",
        "description": "Vải thiều sấy nguyên quả bằng lò hơi nóng 72 giờ, không đường, không chất bảo quản.",
        "standards": "QCVN 8-2:2011/BYT, QCVN 8-3:2012/BYT",
        "ocop": ("food", 3, "1312/QĐ-UBND", date(2024, 5, 28)),
        "shop_links": [{"name": SHOPEE, "url": "https://shopee.vn/vaithieuphuongson"}],
        "declared_revenue_vnd": 2_300_000_000,
    },
)

# Scope "producer", "location" (``subject`` a location key) or "product" (a product key).
# ``verified`` ones are confirmed by centre staff; one VietGAP certificate has lapsed.
CERTIFICATIONS: tuple[dict[str, Any], ...] = (
    {"producer": "caphe", "scope": "location", "subject": "caphe_farm", "type": "vietgap",
     "number": "VietGAP-TT-25-03-66-0215", "issuer": "Công ty CP Chứng nhận và Giám định VinaCert",
     "valid_from": date(2025, 3, 10), "valid_to": date(2028, 3, 9), "verified": True},
    {"producer": "caphe", "scope": "location", "subject": "caphe_farm", "type": "vietgap",
     "number": "VietGAP-TT-22-02-66-0078", "issuer": "Công ty CP Chứng nhận và Giám định VinaCert",
     "valid_from": date(2022, 2, 15), "valid_to": date(2025, 2, 14), "verified": True},
    {"producer": "caphe", "scope": "product", "subject": "cf_rang", "type": "organic",
     "number": "TCVN 11041-2:2017/HC-26-0391", "issuer": "Trung tâm Chứng nhận Phù hợp (QUACERT)",
     "valid_from": date(2026, 10, 1), "valid_to": date(2029, 9, 30), "verified": False},
    {"producer": "saurieng", "scope": "location", "subject": "saurieng_farm", "type": "globalgap",
     "number": "GGN 4063061873517", "issuer": "Control Union Việt Nam",
     "valid_from": date(2026, 3, 1), "valid_to": date(2027, 2, 28), "verified": True},
    {"producer": "che", "scope": "product", "subject": "che_xanh", "type": "organic",
     "number": "TCVN 11041-6:2018/HC-25-0127", "issuer": "Trung tâm Chứng nhận Phù hợp (QUACERT)",
     "valid_from": date(2025, 6, 1), "valid_to": date(2028, 5, 31), "verified": True},
    {"producer": "nuocmam_nt", "scope": "producer", "subject": None, "type": "iso22000",
     "number": "ISO 22000:2018 - 26.0518", "issuer": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 3",
     "valid_from": date(2026, 9, 20), "valid_to": date(2029, 9, 19), "verified": False},
    {"producer": "yen", "scope": "producer", "subject": None, "type": "iso22000",
     "number": "ISO 22000:2018 - 25.0233", "issuer": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 3",
     "valid_from": date(2025, 1, 15), "valid_to": date(2028, 1, 14), "verified": True},
    {"producer": "nuocmam_pq", "scope": "producer", "subject": None, "type": "haccp",
     "number": "HACCP-26-0412", "issuer": "Công ty CP Chứng nhận và Giám định VinaCert",
     "valid_from": date(2026, 2, 1), "valid_to": date(2029, 1, 31), "verified": True},
    {"producer": "nuocmam_pq", "scope": "location", "subject": "pq_vats", "type": "iso22000",
     "number": "ISO 22000:2018 - 24.1187", "issuer": "Trung tâm Chứng nhận Phù hợp (QUACERT)",
     "valid_from": date(2024, 8, 5), "valid_to": date(2027, 8, 4), "verified": True},
    {"producer": "gao", "scope": "producer", "subject": None, "type": "iso9001",
     "number": "ISO 9001:2015 - 25.0764", "issuer": "Trung tâm Chứng nhận Phù hợp (QUACERT)",
     "valid_from": date(2025, 5, 12), "valid_to": date(2028, 5, 11), "verified": True},
    {"producer": "gao", "scope": "product", "subject": "gao_st25", "type": "haccp",
     "number": "HACCP-26-0988", "issuer": "Công ty CP Chứng nhận và Giám định VinaCert",
     "valid_from": date(2026, 11, 2), "valid_to": date(2029, 11, 1), "verified": False},
    {"producer": "vai", "scope": "location", "subject": "vai_orchard", "type": "vietgap",
     "number": "VietGAP-TT-24-11-24-0342", "issuer": "Trung tâm Chứng nhận Phù hợp (QUACERT)",
     "valid_from": date(2024, 11, 20), "valid_to": date(2027, 11, 19), "verified": True},
    {"producer": "vai", "scope": "location", "subject": "vai_orchard", "type": "globalgap",
     "number": "GGN 4063061902288", "issuer": "Control Union Việt Nam",
     "valid_from": date(2026, 4, 15), "valid_to": date(2027, 4, 14), "verified": False},
    # Runs out 45 days after the demo is loaded, so it is always on the centre's expiry work list.
    {"producer": "matong", "scope": "producer", "subject": None, "type": "vietgap",
     "number": "VietGAP-CN-23-12-66-0031", "issuer": "Công ty CP Chứng nhận và Giám định VinaCert",
     "expires_in_days": 45, "verified": True},
)  # fmt: skip

# A producer whose sign-up the centre turned down, and the reason it sees.
REJECTED_PRODUCER: dict[str, Any] = {
    "centre": "nghean",
    "name": "Cơ sở Kẹo lạc Thanh Chương",
    "kind": "household",
    "tax_code": "2901987667",
    "ward": "Xã Thanh Chương",
    "street": "Xóm 5",
    "phone": "0912 408 771",
    "reason": "Mã số thuế không khớp với giấy chứng nhận đăng ký hộ kinh doanh; vui lòng kiểm tra và đăng ký lại.",
}

# The lot of fresh lychee recalled after a residue test; the dried lychee made from it is affected.
# Its OCOP rating stays declared: the centre's work list shows a claim to verify.
DECLARED_CLAIMS_PRODUCT = "tui_coi"

RECALLED_BATCH = (
    "vai_2606",
    "Mẫu kiểm tra ngày 02/07/2026 có dư lượng thuốc bảo vệ thực vật vượt mức QCVN 8-1:2011/BYT.",
)


class Event(NamedTuple):
    """A key tracking event: type, local time in Vietnam, location key, quantity, note, document."""

    type: str
    time: str  # "YYYY-MM-DD HH:MM", Vietnam time (+07:00)
    location: str | None
    quantity: str | None
    note: str
    reference_type: str = ""
    reference: str = ""
    counterparty: str = ""  # who received a shipment


# Batches in creation order, so that ``inputs`` (batch key, quantity consumed in the
# input's unit) name batches made before. Lot codes of GTIN products fit GS1 AI 10.
BATCHES: tuple[dict[str, Any], ...] = (
    {
        "key": "cf_nhan_2601",
        "product": "cf_nhan",
        "lot_code": "NHAN-HP-2601",
        "production_date": date(2026, 1, 16),
        "expiry_date": date(2027, 7, 16),
        "quantity": "12000",
        "unit": "KGM",
        "location": "caphe_farm",
        "events": (
            Event("growing", "2025-05-10 07:00", "caphe_farm", None,
                  "Tưới đợt 3 và bón phân hữu cơ vi sinh theo quy trình VietGAP."),
            Event("harvesting", "2025-11-18 06:30", "caphe_farm", None,
                  "Thu hái quả chín (tỷ lệ chín trên 90%), khoảng 60 tấn quả tươi."),
            Event("processing", "2026-01-10 08:00", "caphe_roastery", "12000",
                  "Phơi giàn đến độ ẩm 12,5%, xát khô, phân loại sàng 16."),
            Event("inspecting", "2026-01-14 09:30", "caphe_roastery", None,
                  "Đạt hạng 1 theo TCVN 4193:2014: độ ẩm 12,5%, tạp chất 0,4%.",
                  "Phiếu kết quả thử nghiệm", "KQ-2601-018"),
            Event("storing", "2026-01-16 16:00", "caphe_store", "12000",
                  "Nhập kho 200 bao đay 60 kg.", "Phiếu nhập kho", "PNK-2601-007"),
        ),
    },
    {
        "key": "cf_rang_2603",
        "product": "cf_rang",
        "lot_code": "RM2603",
        "production_date": date(2026, 3, 2),
        "expiry_date": date(2027, 3, 2),
        "quantity": "1000",
        "unit": "KGM",
        "location": "caphe_roastery",
        "inputs": (("cf_nhan_2601", "1200"),),
        "events": (
            Event("processing", "2026-03-02 07:30", "caphe_roastery", "1000",
                  "Rang mộc 80 mẻ trên máy rang khí nóng 15 kg/mẻ; hao hụt 16,7%.",
                  "Lệnh sản xuất", "LSX-2603-02"),
            Event("inspecting", "2026-03-03 10:00", "caphe_roastery", None,
                  "Kiểm tra độ rang (Agtron 55) và độ ẩm dưới 5%: đạt TCVN 5250:2015."),
            Event("storing", "2026-03-03 16:30", "caphe_roastery", "1000", "Ủ hạt 48 giờ trong thùng kín."),
        ),
    },
    {
        "key": "cf_bot_2603",
        "product": "cf_bot",
        "lot_code": "BOT2603A",
        "production_date": date(2026, 3, 5),
        "expiry_date": date(2027, 3, 5),
        "quantity": "1600",
        "unit": "H87",
        "location": "caphe_roastery",
        "inputs": (("cf_rang_2603", "800"),),
        "events": (
            Event("processing", "2026-03-05 07:30", "caphe_roastery", None,
                  "Xay 800 kg cà phê rang lô RM2603, cỡ hạt cho pha phin."),
            Event("packing", "2026-03-05 15:00", "caphe_roastery", "1600",
                  "Đóng 1.600 túi 500 g, dán tem QR truy xuất nguồn gốc."),
            Event("inspecting", "2026-03-09 09:00", "caphe_roastery", None,
                  "Kiểm nghiệm chỉ tiêu cảm quan, độ ẩm, cafein: đạt TCVN 5251:2015.",
                  "Phiếu kết quả thử nghiệm", "KQ-2603-0457"),
            Event("shipping", "2026-03-20 08:00", "caphe_store", "600",
                  "Giao nhà phân phối tại Thành phố Hồ Chí Minh.", "Phiếu xuất kho", "PXK-2603-112",
                  "Công ty TNHH Phân phối Cà phê Sài Gòn"),
        ),
    },
    {
        "key": "sr_2605",
        "product": "sr_ri6",
        "lot_code": "SR-KP-2605",
        "production_date": date(2026, 5, 21),
        "expiry_date": date(2026, 6, 4),
        "quantity": "18000",
        "unit": "KGM",
        "location": "saurieng_farm",
        "events": (
            Event("growing", "2026-01-15 07:00", "saurieng_farm", None, "Xử lý ra hoa đồng loạt, tỉa hoa."),
            Event("inspecting", "2026-05-12 08:30", "saurieng_farm", None,
                  "Lấy mẫu kiểm tra dư lượng thuốc bảo vệ thực vật và cadimi: đạt.",
                  "Phiếu kết quả thử nghiệm", "KQ-2605-1130"),
            Event("harvesting", "2026-05-20 05:30", "saurieng_farm", "18000", "Cắt trái độ chín 110 ngày."),
            Event("packing", "2026-05-21 14:00", "saurieng_packhouse", "18000",
                  "Phân loại, đóng thùng carton 18 kg, xông khử trùng."),
            Event("shipping", "2026-05-22 06:00", "saurieng_packhouse", "18000",
                  "Xuất khẩu chính ngạch qua cửa khẩu Hữu Nghị.",
                  "Giấy chứng nhận kiểm dịch thực vật", "KDTV-2605-3391",
                  "Công ty TNHH Thương mại Hữu Nghị Lạng Sơn"),
        ),
    },
    {
        "key": "tieu_2602",
        "product": "tieu",
        "lot_code": "TIEU2602",
        "production_date": date(2026, 2, 10),
        "expiry_date": date(2028, 2, 10),
        "quantity": "4000",
        "unit": "H87",
        "location": "saurieng_packhouse",
        "events": (
            Event("harvesting", "2026-01-20 07:00", "saurieng_farm", None, "Hái tiêu khi chùm có hạt chín đỏ."),
            Event("processing", "2026-02-05 08:00", "saurieng_packhouse", None,
                  "Phơi nắng 4 ngày, sàng tách tạp chất, dung trọng 550 g/l."),
            Event("packing", "2026-02-10 14:00", "saurieng_packhouse", "4000", "Đóng 4.000 túi zip 250 g."),
        ),
    },
    {
        "key": "che_2610",
        "product": "che_xanh",
        "lot_code": "CHE2610-01",
        "production_date": date(2026, 10, 8),
        "expiry_date": date(2027, 10, 8),
        "quantity": "1500",
        "unit": "H87",
        "location": "che_factory",
        "events": (
            Event("harvesting", "2026-10-05 06:00", "che_hill", None, "Hái chè một tôm hai lá, khoảng 1,5 tấn búp tươi."),
            Event("processing", "2026-10-06 07:00", "che_factory", None,
                  "Diệt men, vò, sao khô trên chảo gang; 300 kg chè khô."),
            Event("packing", "2026-10-08 14:00", "che_factory", "1500", "Đóng 1.500 hộp 200 g."),
            Event("shipping", "2026-10-20 08:00", "che_factory", "500",
                  "Giao cửa hàng đặc sản tại Phường Trường Vinh.", "Hóa đơn điện tử", "HD-00001284",
                  "Cửa hàng Đặc sản Xứ Nghệ"),
        ),
    },
    {
        "key": "cam_2611",
        "product": "cam_vinh",
        "lot_code": "CV2611-05",
        "production_date": date(2026, 11, 6),
        "expiry_date": date(2026, 12, 6),
        "quantity": "2400",
        "unit": "H87",
        "location": "cam_orchard",
        "events": (
            Event("growing", "2026-04-10 07:00", "cam_orchard", None, "Bón phân hữu cơ, tỉa cành sau thu hoạch."),
            Event("inspecting", "2026-10-28 09:00", "cam_orchard", None,
                  "Lấy mẫu dư lượng thuốc bảo vệ thực vật trước thu hoạch: đạt.",
                  "Phiếu kết quả thử nghiệm", "KQ-2610-2241"),
            Event("harvesting", "2026-11-05 06:30", "cam_orchard", None, "Thu hoạch 12 tấn cam chín."),
            Event("packing", "2026-11-06 13:00", "cam_orchard", "2400", "Phân loại, đóng 2.400 hộp 5 kg."),
            Event("shipping", "2026-11-09 07:00", "cam_orchard", "1800",
                  "Giao hệ thống siêu thị tại Hà Nội.", "Phiếu xuất kho", "PXK-2611-045",
                  "Công ty CP Siêu thị Hà Nội"),
        ),
    },
    {
        "key": "chieu_2609",
        "product": "chieu_coi",
        "lot_code": "CC-2609",
        "production_date": date(2026, 9, 15),
        "quantity": "400",
        "unit": "H87",
        "location": "coi_workshop",
        "events": (
            Event("processing", "2026-08-20 07:00", "coi_workshop", None,
                  "Se sợi, nhuộm màu tự nhiên và dệt tay trên khung gỗ."),
            Event("packing", "2026-09-15 15:00", "coi_workshop", "400", "Cuộn, bọc túi vải, gắn tem QR."),
        ),
    },
    {
        "key": "yen_2608",
        "product": "yen",
        "lot_code": "YS2608",
        "production_date": date(2026, 8, 20),
        "expiry_date": date(2028, 8, 20),
        "quantity": "300",
        "unit": "H87",
        "location": "yen_workshop",
        "events": (
            Event("receiving", "2026-08-03 09:00", "yen_workshop", None, "Tiếp nhận 35 kg tổ yến thô khai thác vụ hè."),
            Event("processing", "2026-08-10 07:30", "yen_workshop", None, "Ngâm, nhặt lông thủ công, sấy lạnh."),
            Event("packing", "2026-08-20 14:00", "yen_workshop", "300", "Đóng 300 hộp quà 100 g."),
        ),
    },
    {
        "key": "nt40_2610",
        "product": "nm_nt40",
        "lot_code": "NT40-2610",
        "production_date": date(2026, 10, 15),
        "expiry_date": date(2029, 10, 15),
        "quantity": "3000",
        "unit": "LTR",
        "location": "nt_vats",
        "events": (
            Event("processing", "2025-11-20 06:00", "nt_vats", None,
                  "Ủ chượp cá cơm than với muối Hòn Khói, tỷ lệ 3 cá : 1 muối."),
            Event("inspecting", "2026-10-12 09:00", "nt_vats", None,
                  "Độ đạm 40 g/l, histamin dưới 200 mg/l: đạt TCVN 5107:2018.",
                  "Phiếu kết quả thử nghiệm", "KQ-2610-0873"),
            Event("packing", "2026-10-15 13:00", "nt_vats", "3000", "Đóng 6.000 chai thủy tinh 500 ml."),
        ),
    },
    {
        "key": "pq43_2609",
        "product": "nm_pq43",
        "lot_code": "PQ43-2609",
        "production_date": date(2026, 9, 10),
        "expiry_date": date(2029, 9, 10),
        "quantity": "6000",
        "unit": "LTR",
        "location": "pq_vats",
        "events": (
            Event("receiving", "2025-09-14 05:30", "pq_vats", None,
                  "Tiếp nhận 40 tấn cá cơm than ướp muối ngay trên tàu.", "Biên bản giao nhận", "BBGN-2509-31"),
            Event("processing", "2025-09-14 10:00", "pq_vats", None, "Ủ chượp 12 tháng trong thùng gỗ bời lời."),
            Event("processing", "2026-09-02 06:00", "pq_vats", "6000", "Kéo rút nước mắm cốt, độ đạm 43 g/l."),
            Event("inspecting", "2026-09-05 09:00", "pq_vats", None,
                  "Kiểm nghiệm độ đạm, histamin, kim loại nặng: đạt TCVN 5107:2018 và QCVN 8-2:2011/BYT.",
                  "Phiếu kết quả thử nghiệm", "KQ-2609-0419"),
            Event("packing", "2026-09-10 14:00", "pq_bottling", "6000", "Đóng 12.000 chai thủy tinh 500 ml."),
        ),
    },
    {
        "key": "lua_2603",
        "product": "lua_st25",
        "lot_code": "LUA-DX2526",
        "production_date": date(2026, 3, 8),
        "quantity": "30000",
        "unit": "KGM",
        "location": "gao_fields",
        "events": (
            Event("growing", "2025-12-05 06:00", "gao_fields", None, "Gieo sạ giống xác nhận ST25, 80 kg/ha."),
            Event("inspecting", "2026-02-10 08:00", "gao_fields", None,
                  "Kiểm tra đồng ruộng giai đoạn trổ: không sâu bệnh vượt ngưỡng."),
            Event("harvesting", "2026-03-06 06:00", "gao_fields", "30000", "Gặt máy, lúa tươi độ ẩm 24%."),
            Event("storing", "2026-03-08 17:00", "gao_mill", "30000", "Sấy đến độ ẩm 14%, nhập silo số 2."),
        ),
    },
    {
        "key": "gao_2604",
        "product": "gao_st25",
        "lot_code": "ST25-2604A",
        "production_date": date(2026, 4, 2),
        "expiry_date": date(2027, 4, 2),
        "quantity": "3600",
        "unit": "H87",
        "location": "gao_mill",
        "inputs": (("lua_2603", "27700"),),
        "events": (
            Event("processing", "2026-04-01 07:00", "gao_mill", None,
                  "Xay xát, đánh bóng, tách màu 27,7 tấn lúa; thu 18 tấn gạo."),
            Event("packing", "2026-04-02 15:00", "gao_mill", "3600", "Đóng 3.600 túi hút chân không 5 kg."),
            Event("inspecting", "2026-04-04 09:00", "gao_mill", None,
                  "Đạt TCVN 11888:2017 gạo trắng hạt dài, tỷ lệ tấm dưới 5%.",
                  "Phiếu kết quả thử nghiệm", "KQ-2604-0335"),
            Event("shipping", "2026-04-10 06:00", "gao_mill", "2000",
                  "Giao hệ thống siêu thị tại Thành phố Hồ Chí Minh.", "Phiếu xuất kho", "PXK-2604-018",
                  "Công ty CP Thương mại Sài Gòn Co.op"),
        ),
    },
    {
        "key": "vai_2606",
        "product": "vai_tuoi",
        "lot_code": "VT-PS-2606",
        "production_date": date(2026, 6, 10),
        "expiry_date": date(2026, 6, 20),
        "quantity": "8000",
        "unit": "KGM",
        "location": "vai_orchard",
        "events": (
            Event("growing", "2026-01-20 07:00", "vai_orchard", None, "Cây ra hoa, phun chế phẩm sinh học."),
            Event("inspecting", "2026-06-02 08:00", "vai_orchard", None,
                  "Lấy mẫu dư lượng thuốc bảo vệ thực vật trước thu hoạch: đạt.",
                  "Phiếu kết quả thử nghiệm", "KQ-2606-0051"),
            Event("harvesting", "2026-06-10 05:00", "vai_orchard", "8000", "Thu hái vải chín đỏ từ sáng sớm."),
            Event("shipping", "2026-06-11 04:30", "vai_orchard", "5000",
                  "Xe lạnh đi Thành phố Hồ Chí Minh.", "Phiếu xuất kho", "PXK-2606-204",
                  "Công ty TNHH Trái cây Bình Điền"),
        ),
    },
    {
        "key": "vai_say_2606",
        "product": "vai_say",
        "lot_code": "VS2606",
        "production_date": date(2026, 6, 15),
        "expiry_date": date(2027, 6, 15),
        "quantity": "1000",
        "unit": "H87",
        "location": "vai_dryer",
        "inputs": (("vai_2606", "2000"),),
        "events": (
            Event("processing", "2026-06-12 06:00", "vai_dryer", None,
                  "Sấy 2 tấn vải tươi 72 giờ trong lò hơi nóng; thu 500 kg vải khô."),
            Event("packing", "2026-06-15 14:00", "vai_dryer", "1000", "Đóng 1.000 túi 500 g."),
        ),
    },
)  # fmt: skip

# The batches whose consumer pages the command prints: one GS1 Digital Link, one /t/ code.
SAMPLE_BATCHES = (("cf_bot", "BOT2603A"), ("cf_nhan", "NHAN-HP-2601"))

# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def seed_demo() -> list[str]:
    """Load the demo data once and return the console lines: heading, logins, sample URLs.

    Idempotent by a marker: when the ministry demo user (``bo@demo.vn``) exists,
    nothing is added and only the logins are printed again. The data is loaded
    in one transaction, so a failed run leaves nothing behind to trip the next.
    An existing centre of a demo province (from ``create-centre``) is reused.
    """
    if db.session.scalar(select(User.id).where(User.email == MINISTRY_EMAIL)) is not None:
        # A demo loaded before the dashboards and reports existed gets their data once.
        if _load_or_explain(load_demo_activity):
            db.session.commit()
            return ["Demo data already loaded: dashboards' and reports' data added.", *_console_lines()]
        return ["Demo data already loaded: nothing added.", *_console_lines()]
    try:
        _load()
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(f"{name}: {message}" for name, message in error.fields.items())
        raise click.ClickException(f"Demo data not loaded: {error.message} {details}".strip()) from error
    db.session.commit()
    counts = ", ".join(f"{_count(model)} {label}" for model, label in _COUNTED)
    return [f"Demo data loaded: {counts}.", *_console_lines()]


def _load() -> None:
    """Create every record of the tables above through the services, in dependency order."""
    ministry = create_user(email=MINISTRY_EMAIL, password=DEMO_PASSWORD, role="ministry", name=MINISTRY_NAME)
    staff = {spec["slug"]: _load_centre(spec, ministry) for spec in CENTRES}
    producers: dict[str, Producer] = {}
    writers: dict[str, User] = {}  # who records each producer's data: its own user, else centre staff
    for spec in PRODUCERS:
        producers[spec["key"]], writers[spec["key"]] = _load_producer(spec, staff[spec["centre"]])
    locations = {spec["key"]: _load_location(spec, producers, writers) for spec in LOCATIONS}
    products = {spec["key"]: _load_product(spec, producers, writers, staff) for spec in PRODUCTS}
    for spec in PRODUCTS:
        _load_product_picture(spec, products[spec["key"]], writers)
    for spec in CERTIFICATIONS:
        _load_certification(spec, producers, locations, products, writers, staff)
    batches: dict[str, Batch] = {}
    for spec in BATCHES:
        batches[spec["key"]] = _load_batch(spec, products, locations, batches, writers)
    _load_rejected_producer(staff[REJECTED_PRODUCER["centre"]])
    batch_key, reason = RECALLED_BATCH
    product_key = next(spec["product"] for spec in BATCHES if spec["key"] == batch_key)
    recall_batch(batches[batch_key], reason, actor=_writer_of(product_key, writers))
    load_demo_inspections(staff, producers, locations, batches, writers)
    load_demo_activity()


def _load_or_explain(load: Any) -> Any:
    """Run ``load``; a refusal rolls back and stops the command with its reason."""
    try:
        return load()
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(f"{name}: {message}" for name, message in error.fields.items())
        raise click.ClickException(f"Demo data not loaded: {error.message} {details}".strip()) from error


def _writer_of(product_key: str, writers: dict[str, User]) -> User:
    """Who records a product's data: its producer's user, else the centre staff."""
    return writers[next(spec["producer"] for spec in PRODUCTS if spec["key"] == product_key)]


def _load_rejected_producer(centre_staff: User) -> Producer:
    """A producer signs up and the centre turns it down with a reason the producer reads."""
    spec = REJECTED_PRODUCER
    data = {name: spec[name] for name in ("name", "kind", "tax_code", "ward", "street", "phone")}
    assert centre_staff.centre is not None  # a centre role has its centre (centre_role_has_centre)
    data["province_code"] = centre_staff.centre.province_code
    producer = create_producer(data, actor=None)
    return reject_producer(producer, spec["reason"], actor=centre_staff)


def _load_centre(spec: dict[str, Any], ministry: User) -> User:
    """Create (or reuse) a centre and its admin, staff and auditor; return the staff user."""
    centre = centre_for_province(spec["province_code"]) or create_centre(
        province_code=spec["province_code"],
        name=spec["name"],
        actor=ministry,
        address=spec["address"],
        phone=spec["phone"],
        email=spec["email"],
    )
    users: dict[str, User] = {}
    for (suffix, role), name in zip(CENTRE_ROLES, spec["staff"], strict=True):
        # The ministry appoints the centre admin, who then adds the centre's staff.
        users[role] = create_user(
            email=f"{spec['slug']}.{suffix}@demo.vn",
            password=DEMO_PASSWORD,
            role=role,
            name=name,
            centre=centre,
            actor=users.get("centre_admin", ministry),
        )
    return users["centre_staff"]


def _load_producer(spec: dict[str, Any], centre_staff: User) -> tuple[Producer, User]:
    """Register a producer (approved by centre staff, or pending when it signed up) and its user."""
    data = {name: spec.get(name) for name in ("name", "kind", "tax_code", "ward", "street", "phone", "email")}
    assert centre_staff.centre is not None  # a centre role has its centre (centre_role_has_centre)
    data["province_code"] = centre_staff.centre.province_code
    producer = create_producer(data, actor=None if spec.get("pending") else centre_staff)
    if "user" not in spec:
        return producer, centre_staff
    email, name = spec["user"]
    user = create_user(
        email=email, password=DEMO_PASSWORD, role="producer", name=name, producer=producer, actor=centre_staff
    )
    return producer, user


def _gs1_key(producer_key: str, reference: str | None) -> str | None:
    """A GTIN-13 or GLN: the producer's GS1 company prefix, the reference and the check digit."""
    if reference is None:
        return None
    prefix = next(spec["gs1_prefix"] for spec in PRODUCERS if spec["key"] == producer_key)
    digits = prefix + reference
    return digits + str(gtin_check_digit(digits))


def _load_location(
    spec: dict[str, Any], producers: dict[str, Producer], writers: dict[str, User]
) -> Location:
    """Add a farm, facility or warehouse."""
    data = {name: spec[name] for name in ("name", "kind", "ward", "street", "latitude", "longitude")}
    data["producer_id"] = producers[spec["producer"]].id
    data["gln"] = _gs1_key(spec["producer"], spec["gln_ref"])
    return create_location(data, actor=writers[spec["producer"]])


def _load_product(
    spec: dict[str, Any], producers: dict[str, Producer], writers: dict[str, User], staff: dict[str, User]
) -> Product:
    """Register a product, its GTIN with a computed check digit, and its OCOP and flagship claims,
    which its centre verifies (the OCOP rating against the decision the producer attached), except
    the claims of ``DECLARED_CLAIMS_PRODUCT``, left for the centre's work list."""
    producer = producers[spec["producer"]]
    data = {key: value for key, value in spec.items() if key not in ("key", "producer", "gtin_item", "ocop")}
    data["producer_id"] = producer.id
    data["gtin"] = _gs1_key(spec["producer"], spec.get("gtin_item"))
    if "ocop" in spec:
        group, stars, certificate_no, issued_on = spec["ocop"]
        decision = {
            "number": certificate_no,
            "issuer": "Bộ Nông nghiệp và Môi trường"
            if stars == 5
            else f"Ủy ban nhân dân {producer.province_name}",
            "valid_from": issued_on,
            "valid_to": ocop_expiry(issued_on),
        }
        data["ocop"] = {
            "group": group,
            "stars": stars,
            "certificate_no": certificate_no,
            "issued_on": issued_on,
            "document": _certificate_pdf(decision, producer.name),
            "document_name": "quyet-dinh-ocop.pdf",
        }
    product = create_product(data, actor=writers[spec["producer"]])
    if producer.status == "approved" and spec["key"] != DECLARED_CLAIMS_PRODUCT:
        centre_staff = next(user for user in staff.values() if user.centre_id == producer.centre_id)
        for kind in ("ocop", "flagship"):
            claim = current_claim(product, kind)
            if claim is not None and claim.status == "pending":
                verify_claim(product, kind, actor=centre_staff)
    return product


def _load_product_picture(spec: dict[str, Any], product: Product, writers: dict[str, User]) -> None:
    """Give a product of an approved producer its picture, drawn here (``demo_pictures``), as its producer uploads one."""
    if product.producer.status != "approved":
        return  # the others can't add photos: their products show the category's placeholder
    picture = product_picture(spec["name"], spec.get("category", ""), spec.get("brand", ""))
    add_product_image(product, picture, actor=writers[spec["producer"]])


def _load_certification(
    spec: dict[str, Any],
    producers: dict[str, Producer],
    locations: dict[str, Location],
    products: dict[str, Product],
    writers: dict[str, User],
    staff: dict[str, User],
) -> Certification:
    """Record a certificate with its scanned document as its producer would; the centre verifies some."""
    producer = producers[spec["producer"]]
    subject: int | None = None
    if spec["scope"] == "location":
        subject = locations[spec["subject"]].id
    elif spec["scope"] == "product":
        subject = products[spec["subject"]].id
    valid_from, valid_to = spec.get("valid_from"), spec.get("valid_to")
    if "expires_in_days" in spec:
        valid_to = vietnam_today() + timedelta(days=spec["expires_in_days"])
        valid_from = valid_to.replace(year=valid_to.year - 3) + timedelta(days=1)
    data = {
        "scope": spec["scope"],
        "subject_id": subject if subject is not None else producer.id,
        "type": spec["type"],
        "number": spec["number"],
        "issuer": spec["issuer"],
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    document = _certificate_pdf(data, producer.name)
    certification = create_certification(
        data, actor=writers[spec["producer"]], document=document, document_name=f"{spec['type']}.pdf"
    )
    if spec["verified"]:
        centre_staff = next(user for user in staff.values() if user.centre_id == producer.centre_id)
        verify_certification(certification, actor=centre_staff)
    return certification


def _certificate_pdf(data: dict[str, Any], holder: str) -> bytes:
    """A one-page PDF standing in for the scanned certificate the producer uploads."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from traceability.labels import FONT_FOLDER

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_FOLDER / "DejaVuSans.ttf")))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setFont("DejaVuSans", 14)
    lines = [
        "GIẤY CHỨNG NHẬN (bản mẫu dữ liệu demo)",
        f"Số: {data['number']}",
        f"Cấp cho: {holder}",
        f"Tổ chức cấp: {data['issuer']}",
        f"Hiệu lực: {data['valid_from']:%d/%m/%Y} - {data['valid_to']:%d/%m/%Y}",
    ]
    for number, line in enumerate(lines):
        canvas.drawString(60, 760 - number * 28, line)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _load_batch(
    spec: dict[str, Any],
    products: dict[str, Product],
    locations: dict[str, Location],
    batches: dict[str, Batch],
    writers: dict[str, User],
) -> Batch:
    """Create a batch, link the input batches it consumed, and record its key events."""
    product = products[spec["product"]]
    actor = _writer_of(spec["product"], writers)
    batch = create_batch(
        {
            "product_id": product.id,
            "lot_code": spec["lot_code"],
            "production_date": spec["production_date"],
            "expiry_date": spec.get("expiry_date"),
            "quantity": spec["quantity"],
            "unit": spec["unit"],
            "location_id": locations[spec["location"]].id,
        },
        actor=actor,
    )
    inputs = [
        {"batch_id": batches[key].id, "quantity": Decimal(amount)} for key, amount in spec.get("inputs", ())
    ]
    if inputs:
        add_inputs(batch, inputs, kind="transformation", actor=actor)
    for event in spec["events"]:
        record_event(
            batch,
            {
                "type": event.type,
                "time": datetime.fromisoformat(event.time).replace(tzinfo=VIETNAM_OFFSET),
                "location_id": locations[event.location].id if event.location else None,
                "quantity": event.quantity,
                "note": event.note,
                "reference_type": event.reference_type,
                "reference": event.reference,
                "counterparty": event.counterparty,
            },
            actor=actor,
        )
    return batch


# ---------------------------------------------------------------------------
# Console output
# ---------------------------------------------------------------------------

_COUNTED = ((Centre, "centres"), (Producer, "producers"), (Product, "products"), (Batch, "batches"))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def demo_logins() -> list[tuple[str, str]]:
    """Every demo login as (email, role), in the order the table prints them."""
    logins = [(MINISTRY_EMAIL, "ministry")]
    for spec in CENTRES:
        logins += [(f"{spec['slug']}.{suffix}@demo.vn", role) for suffix, role in CENTRE_ROLES]
    logins += [(spec["user"][0], "producer") for spec in PRODUCERS if "user" in spec]
    return logins


def _console_lines() -> list[str]:
    """The login table (as stored) and the sample consumer pages."""
    emails = [email for email, _role in demo_logins()]
    users = {user.email: user for user in db.session.scalars(select(User).where(User.email.in_(emails)))}
    rows = [("email", "password", "role", "centre / producer")]
    for email in emails:
        user = users.get(email)
        if user is None:  # removed by hand since the demo was loaded
            continue
        where = user.producer.name if user.producer else user.centre.name if user.centre else "(all centres)"
        rows.append((user.email, DEMO_PASSWORD, user.role, where))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["", "Demo logins:"]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  " + "  ".join([*padded, row[3]]))
    lines += ["", "Sample consumer pages:"]
    base_url = current_app.config["PUBLIC_BASE_URL"]
    for product_key, lot_code in SAMPLE_BATCHES:
        batch = _sample_batch(product_key, lot_code)
        if batch is not None:
            lines.append(f"  {batch.product.name} (lot {batch.lot_code}): {public_url(base_url, batch)}")
    return lines


def _sample_batch(product_key: str, lot_code: str) -> Batch | None:
    """A demo batch found by its product's demo name and its lot code."""
    name = next(spec["name"] for spec in PRODUCTS if spec["key"] == product_key)
    return db.session.scalars(
        select(Batch).join(Product).where(Product.name == name, Batch.lot_code == lot_code)
    ).first()
