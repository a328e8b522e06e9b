"""What the console says, in Vietnamese (the default) and English, and how it writes dates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    "app": ("Cổng trao đổi văn bản điện tử", "E-document exchange gateway"),
    "skip": ("Bỏ qua, đến nội dung chính", "Skip to the main content"),
    "nav.overview": ("Tổng quan", "Overview"),
    "nav.queues": ("Hàng đợi", "Queues"),
    "nav.dead": ("Thư lỗi", "Dead letters"),
    "nav.trust": ("Tin cậy", "Trust"),
    "nav.stats": ("Thống kê", "Statistics"),
    "nav.audit": ("Nhật ký kiểm toán", "Audit log"),
    "other_lang": ("English", "Tiếng Việt"),
    "signed_in_as": ("Đang đăng nhập", "Signed in as"),
    "role.operator": ("vận hành", "operator"),
    "role.auditor": ("kiểm toán", "auditor"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "login.title": ("Đăng nhập", "Sign in"),
    "login.name": ("Tên đăng nhập", "User name"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Sign in"),
    "login.failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "login.wait": (
        "Quá nhiều lần đăng nhập sai. Hãy thử lại sau {seconds} giây.",
        "Too many failed sign-ins. Try again in {seconds} seconds.",
    ),
    "login.expired": (
        "Phiên làm việc đã hết hạn hoặc chưa đăng nhập. Hãy đăng nhập.",
        "Your session has expired or you are not signed in. Please sign in.",
    ),
    "error.title": ("Không thực hiện được", "Not possible"),
    "error.403": ("Bạn không có quyền xem trang này.", "You may not see this page."),
    "error.csrf": (
        "Biểu mẫu đã cũ hoặc không hợp lệ. Hãy tải lại trang và thử lại.",
        "The form is stale or invalid. Reload the page and try again.",
    ),
    "error.back": ("Về trang tổng quan", "Back to the overview"),
    "ready": ("Sẵn sàng", "Ready"),
    "not_ready": ("Không sẵn sàng", "Not ready"),
    "store": ("Cơ sở dữ liệu", "Store"),
    "bus": ("Hàng đợi tin", "Bus"),
    "last_hour": ("Giờ qua (theo phút)", "Last hour (per minute)"),
    "last_day": ("24 giờ qua (theo giờ)", "Last 24 hours (per hour)"),
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "refused": ("Bị từ chối", "Refused"),
    "delivered": ("Đã chuyển", "Delivered"),
    "total": ("Tổng", "Total"),
    "agency": ("Cơ quan", "Agency"),
    "group": ("Nhóm", "Group"),
    "ready_count": ("Chờ chuyển", "Ready"),
    "in_flight": ("Đang chuyển", "In flight"),
    "dead": ("Thư lỗi", "Dead"),
    "oldest": ("Cũ nhất (giây)", "Oldest (s)"),
    "adapter": ("Bộ kết nối", "Adapter"),
    "state": ("Trạng thái", "State"),
    "state.up": ("Hoạt động", "Up"),
    "state.backing_off": ("Tạm dừng gửi", "Backing off"),
    "retry_at": ("Thử lại lúc", "Retry at"),
    "last_error": ("Lỗi gần nhất", "Last error"),
    "reset": ("Thử lại ngay", "Retry now"),
    "reset.done": ("Đã đặt lại bộ kết nối của {agency}.", "The adapter of {agency} was reset."),
    "filter": ("Lọc", "Filter"),
    "all": ("Tất cả", "All"),
    "none_found": ("Không có mục nào.", "Nothing found."),
    "delivery": ("Mã chuyển phát", "Delivery"),
    "attempts": ("Số lần thử", "Attempts"),
    "reason": ("Lý do", "Reason"),
    "dead_at": ("Thời điểm lỗi", "Failed at"),
    "size": ("Kích thước (byte)", "Size (bytes)"),
    "priority": ("Độ khẩn", "Priority"),
    "replay": ("Gửi lại", "Replay"),
    "replay.done": ("Đã đưa thư {id} trở lại hàng đợi.", "Dead letter {id} was put back."),
    "purge": ("Xóa thư lỗi của cơ quan này", "Purge this agency's dead letters"),
    "purge.confirm": (
        "Xóa vĩnh viễn {count} thư lỗi của {agency}? Không thể hoàn tác.",
        "Delete {count} dead letters of {agency} for good? This cannot be undone.",
    ),
    "purge.yes": ("Xóa", "Delete"),
    "purge.no": ("Hủy", "Cancel"),
    "purge.done": (
        "Đã xóa {count} thư lỗi của {agency}.",
        "Purged {count} dead letters of {agency}.",
    ),
    "trust.anchors": ("Chứng thư gốc tin cậy", "Trust anchors"),
    "trust.intermediates": ("Chứng thư trung gian", "Intermediate certificates"),
    "trust.crls": ("Danh sách thu hồi (CRL)", "Revocation lists (CRLs)"),
    "subject": ("Chủ thể", "Subject"),
    "issuer": ("Tổ chức cấp", "Issuer"),
    "valid_until": ("Hiệu lực đến", "Valid until"),
    "this_update": ("Cập nhật lúc", "Issued"),
    "next_update": ("Cập nhật tiếp", "Next update"),
    "revoked": ("Số chứng thư bị thu hồi", "Revoked"),
    "expired": ("đã hết hạn", "expired"),
    "reload": ("Nạp lại", "Reload"),
    "reload.done": ("Đã nạp lại vật liệu tin cậy.", "The trust material was reloaded."),
    "period": ("Kỳ", "Period"),
    "period.month": ("Tháng", "Month"),
    "period.quarter": ("Quý", "Quarter"),
    "period.year": ("Năm", "Year"),
    "period.custom": ("Tùy chọn", "Custom"),
    "from": ("Từ ngày", "From"),
    "to": ("Đến ngày", "To"),
    "by": ("Theo", "By"),
    "show": ("Xem", "Show"),
    "electronic": ("Điện tử", "Electronic"),
    "paper": ("Giấy", "Paper"),
    "secret_excluded": ("Mật (không tính)", "Secret (excluded)"),
    "with_paper_copy": ("Kèm bản giấy", "With paper copy"),
    "ratio": ("Tỷ lệ điện tử", "Electronic ratio"),
    "target": ("Chỉ tiêu", "Target"),
    "meets": ("Đạt", "Met"),
    "yes": ("Đạt", "Yes"),
    "no": ("Chưa đạt", "No"),
    "city_total": ("Toàn thành phố", "City total"),
    "download": ("Tải về", "Download"),
    "stats.range": ("Từ {start} đến {end}", "From {start} to {end}"),
    "event": ("Sự kiện", "Event"),
    "actor": ("Người/cơ quan thực hiện", "Actor"),
    "recipient": ("Cơ quan nhận", "Recipient"),
    "message": ("Mã thông điệp", "Message"),
    "details": ("Chi tiết", "Details"),
    "time": ("Thời gian", "Time"),
    "older": ("Cũ hơn", "Older"),
    "verify": ("Kiểm tra chuỗi băm", "Verify the hash chain"),
    "verify.ok": (
        "Chuỗi nguyên vẹn: {events} mục. Lưu giữ mã đầu chuỗi dưới đây để đối chiếu sau.",
        "The chain is intact: {events} entries. Keep the head below to compare later.",
    ),
    "verify.bad": (
        "Chuỗi bị hỏng tại mục {seq}: {problem}",
        "The chain is broken at entry {seq}: {problem}",
    ),
    "verify.head": ("Mã đầu chuỗi", "Head"),
    "later": (
        "Tìm văn bản, từ chối và chi tiết số liệu: sắp có.",
        "Message search, refusals and drill-down: coming.",
    ),
}


def say(lang: Lang, key: str, **values: object) -> str:
    vi, en = WORDS[key]
    text = vi if lang == "vi" else en
    return text.format(**values) if values else text


def when(ts: float | None, tz: ZoneInfo) -> str:
    """dd/MM/yyyy HH:mm in the gateway's statistics time zone."""
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, tz).strftime("%d/%m/%Y %H:%M")
