"""What staff read in the console for the codes stored in the database."""

from __future__ import annotations

REASONS = {
    "customer_request": "Khách yêu cầu gặp nhân viên",
    "faq_fallback": "Trợ lý không tìm được câu trả lời (2 lần)",
    "negative_sentiment": "Khách đang không hài lòng",
}
STATUSES = {"open": "Đang chờ", "assigned": "Đang xử lý", "resolved": "Đã giải quyết"}
SENTIMENTS = {"negative": "Tiêu cực", "neutral": "Trung lập", "positive": "Tích cực"}
CHANNELS = {"rest": "REST", "web": "Trang web", "zalo": "Zalo", "messenger": "Messenger"}
ROLES = {"agent": "Nhân viên", "editor": "Biên tập kiến thức", "admin": "Quản trị viên"}
SURVEY_STATUSES = {
    "asked": "Đã hỏi, chưa trả lời",
    "partial": "Trả lời một phần",
    "completed": "Đã hoàn thành",
    "skipped": "Khách bỏ qua",
}
AUDIT_ACTIONS = {
    "sign_in": "Đăng nhập",
    "sign_in_failed": "Đăng nhập sai",
    "sign_in_locked": "Đăng nhập bị chặn (đang khóa)",
    "sign_out": "Đăng xuất (mọi phiên)",
    "take": "Nhận xử lý",
    "reply": "Trả lời khách",
    "resolve": "Đã giải quyết",
    "staff_add": "Tạo tài khoản",
    "staff_password": "Đổi mật khẩu",
    "staff_disable": "Khóa tài khoản",
    "staff_enable": "Mở lại tài khoản",
    "export": "Tải dữ liệu xuất",
    "kb_change": "Sửa kho kiến thức",
}
