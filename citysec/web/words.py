"""The console's words in Vietnamese (default) and English. Check names come from the same
catalogues as the reports (``name: {vi, en}`` of config/exposure.yaml and collectors/checks.yaml),
agency names from the configuration, documents from the reports themselves; this catalogue holds
the console's own words (menus, buttons, statuses, roles, record fields)."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "console": ("Bảng điều khiển an toàn thông tin", "Security console"),
    "login": ("Đăng nhập", "Log in"), "logout": ("Đăng xuất", "Log out"),
    "account": ("Tài khoản", "Account"), "password": ("Mật khẩu", "Password"),
    "totp": ("Mã xác thực (nếu có)", "Authenticator code (if set)"),
    "login_failed": ("Tên tài khoản hoặc mật khẩu không đúng.", "Wrong account name or password."),
    "throttled": ("Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau 15 phút.",
                  "Too many failed logins. Try again in 15 minutes."),
    "dashboard": ("Tổng quan", "Dashboard"), "findings": ("Phát hiện", "Findings"),
    "incidents": ("Sự cố", "Incidents"), "drills": ("Diễn tập", "Drills"), "reports": ("Báo cáo", "Reports"),
    "city_view": ("Toàn thành phố", "Whole city"), "agency_view": ("Cơ quan của tôi", "My agencies"),
    "period": ("Kỳ", "Period"), "av": ("Máy có phòng chống mã độc", "Hosts with antivirus"),
    "exposed": ("Dịch vụ bị cấm đang mở", "Forbidden services open"),
    "backups": ("Sao lưu đạt", "Backups compliant"), "rogue": ("Thiết bị lạ", "Rogue devices"),
    "open_incidents": ("Sự cố đang xử lý", "Open incidents"), "ranking": ("Xếp hạng", "Ranking"),
    "rank": ("Hạng", "Rank"), "score": ("Điểm", "Score"), "trend": ("Xu hướng", "Trend"),
    "next": ("Việc cần làm tiếp (nghiêm trọng nhất trước)", "What to do next (most severe first)"),
    "no_data": ("không có dữ liệu", "no data"), "after": ("sau", "after"), "none": ("Không có.", "None."),
    "agency": ("Cơ quan", "Agency"), "check": ("Kiểm tra", "Check"), "severity": ("Mức độ", "Severity"),
    "status": ("Trạng thái", "Status"), "triage": ("Quyết định", "Decision"), "host": ("Máy", "Host"),
    "port": ("Cổng", "Port"), "message": ("Mô tả", "Message"), "overdue": ("Quá hạn", "Overdue"),
    "filter": ("Lọc", "Filter"), "all": ("Tất cả", "All"), "first_seen": ("Phát hiện lần đầu", "First seen"),
    "last_seen": ("Lần cuối", "Last seen"), "history": ("Lịch sử", "History"),
    "remediation": ("Khắc phục", "Remediation"),
    "false_positive": ("Đánh dấu cảnh báo sai", "Mark false positive"),
    "accept": ("Đề nghị chấp nhận rủi ro", "Request risk acceptance"),
    "approve_accept": ("Phê duyệt chấp nhận rủi ro", "Approve the risk acceptance"),
    "unaccept": ("Huỷ quyết định", "Withdraw the decision"),
    "reason": ("Lý do", "Reason"), "until": ("Đến ngày", "Until"),
    "pending_accept": ("Đề nghị chấp nhận rủi ro đang chờ phê duyệt", "Risk acceptance awaiting approval"),
    "requested_by": ("Người đề nghị", "Requested by"), "decided_by": ("Người quyết định", "Decided by"),
    "needs_second": ("Cần một tài khoản khác phê duyệt.", "A second account must approve."),
    "case": ("Sự cố", "Incident"), "steps": ("Các bước", "Steps"), "deadlines": ("Thời hạn", "Deadlines"),
    "time_left": ("Còn lại", "Time left"), "approve": ("Phê duyệt", "Approve"), "decline": ("Từ chối", "Decline"),
    "complete": ("Hoàn thành", "Mark done"), "note": ("Ghi chú", "Note"), "add_note": ("Thêm ghi chú", "Add note"),
    "record": ("Hồ sơ sự cố", "Incident record"), "download": ("Tải về", "Download"),
    "notice": ("Thông báo sự cố", "Incident notice"), "initial": ("Báo cáo ban đầu", "Initial report"),
    "final": ("Báo cáo kết thúc", "Final report"), "phase": ("Giai đoạn", "Phase"),
    "opened": ("Mở lúc", "Opened"), "role": ("Vai trò", "Role"), "dry_run": ("Chạy thử", "Dry run"),
    "run": ("Lượt diễn tập", "Drill run"), "state": ("Trạng thái", "State"),
    "pause": ("Tạm dừng", "Pause"), "resume": ("Tiếp tục", "Resume"), "end": ("Kết thúc (ENDEX)", "End (ENDEX)"), "abort": ("Dừng hẳn", "Abort"),
    "injects": ("Tình huống", "Injects"), "expectations": ("Kỳ vọng", "Expectations"),
    "rate": ("Đánh giá", "Rate"), "objective": ("Mục tiêu", "Objective"), "rating": ("Mức", "Rating"),
    "scenario_time": ("Thời gian kịch bản", "Scenario time"), "timeline": ("Diễn biến", "Timeline"),
    "no_runner": ("Không có tiến trình điều khiển đang chạy: chạy `citysec exercise abort` trên máy cảm biến để dọn dẹp.",
                  "No live runner: run `citysec exercise abort` on the sensor to clean up."),
    "asked": ("Đã gửi yêu cầu tới tiến trình điều khiển.", "Asked of the runner."),
    "document": ("Tài liệu", "Document"), "language": ("Ngôn ngữ", "Language"), "format": ("Định dạng", "Format"),
    "open": ("Mở", "Open"), "not_found": ("Không tìm thấy.", "Not found."),
    "forbidden": ("Tài khoản không có quyền thực hiện thao tác này.", "Your account may not do this."),
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request"), "saved": ("Đã ghi.", "Saved."),
    "lang_switch": ("English", "Tiếng Việt"),
    "periodic": ("Báo cáo định kỳ", "Periodic report"), "ranking_doc": ("Xếp hạng", "Ranking"),
    "member": ("Mẫu 05", "Form 05"), "compliance": ("Tuân thủ theo cấp độ", "Level compliance"),
    "year": ("Năm", "Year"), "prev": ("Trước", "Previous"), "more": ("Sau", "Next"),
    "set_field": ("Ghi vào hồ sơ", "Record"), "field": ("Mục", "Field"), "value": ("Nội dung", "Value"),
    "aar": ("Báo cáo sau diễn tập và kế hoạch cải thiện", "After-action report and improvement plan"),
    "shown": ("Hiển thị {n} trên {total}", "Showing {n} of {total}"),
}

SEVERITY = {"critical": ("nghiêm trọng", "critical"), "high": ("cao", "high"), "medium": ("trung bình", "medium"),
            "low": ("thấp", "low"), "info": ("thông tin", "info")}
STATUS = {"open": ("đang mở", "open"), "reopened": ("mở lại", "reopened"), "closed": ("đã đóng", "closed"),
          "active": ("đang xử lý", "active"), "running": ("đang chạy", "running"), "paused": ("tạm dừng", "paused"),
          "completed": ("hoàn tất", "completed"), "aborted": ("đã dừng", "aborted"), "failed": ("lỗi", "failed"),
          "pending": ("chờ", "pending"), "done": ("xong", "done"), "skipped": ("bỏ qua", "skipped"),
          "declined": ("từ chối", "declined"), "approved": ("đã duyệt", "approved"), "met": ("đạt", "met"),
          "missed": ("không đạt", "missed"), "rated": ("chờ người đánh giá", "for the evaluators"), "sent": ("đã gửi", "sent"),
          "accepted": ("chấp nhận rủi ro", "accepted risk"), "false-positive": ("cảnh báo sai", "false positive"),
          "waiting": ("chờ phê duyệt", "awaiting approval"), "in_progress": ("đang làm", "in progress"),
          "blocked": ("dừng, cần xử lý bằng tay", "blocked, needs a hand"), "not_applicable": ("không áp dụng", "not applicable")}
FIELDS = {
    "status": ("Trạng thái", "Status"), "summary": ("Tóm tắt", "Summary"), "indicators": ("Dấu hiệu", "Indicators"),
    "related_incidents": ("Sự cố liên quan", "Related incidents"), "actions": ("Hành động đã thực hiện", "Actions taken"),
    "chain_of_custody": ("Chuỗi lưu giữ chứng cứ", "Chain of custody"), "impact": ("Ảnh hưởng", "Impact"),
    "contacts": ("Liên hệ", "Contacts"), "evidence": ("Chứng cứ", "Evidence"), "comments": ("Ghi chú", "Comments"),
    "next_steps": ("Bước tiếp theo", "Next steps"), "measures": ("Biện pháp đã áp dụng", "Measures applied"),
    "helpers": ("Đơn vị hỗ trợ", "Helpers"), "attachments": ("Tài liệu kèm theo", "Attachments"),
    "public_addresses": ("Địa chỉ công khai", "Public addresses"), "services": ("Dịch vụ", "Services"),
    "security_measures": ("Biện pháp bảo đảm an toàn", "Security measures"), "supporters": ("Đơn vị phối hợp", "Supporters"),
    "conditions": ("Điều kiện", "Conditions"), "symptoms": ("Triệu chứng", "Symptoms"),
    "harm_estimate": ("Đánh giá thiệt hại", "Harm estimate"), "spread": ("Phạm vi ảnh hưởng", "Spread"),
    "infrastructure_provider": ("Nhà cung cấp hạ tầng", "Infrastructure provider"),
    "first_result": ("Kết quả xử lý ban đầu", "First result"), "recommendations": ("Kiến nghị", "Recommendations"),
    "detection_method": ("Cách phát hiện", "Detection method"), "handled": ("Đã xử lý", "Handled"),
    "root_cause": ("Nguyên nhân gốc", "Root cause"), "lessons": ("Bài học kinh nghiệm", "Lessons learned"),
    "help": ("Đề nghị hỗ trợ", "Help asked"), "damage_vnd": ("Thiệt hại (đồng)", "Damage (VND)"),
}
PLAYBOOK_ROLES = {"soc": ("Đội an toàn thông tin thành phố", "City SOC"),
                  "incident_lead": ("Trưởng nhóm ứng cứu sự cố", "Incident lead"),
                  "agency_it": ("Cán bộ CNTT cơ quan", "Agency IT officer")}
ROLES = {"soc": ("Đội an toàn thông tin thành phố", "City SOC"), "officer": ("Cán bộ CNTT cơ quan", "Agency IT officer"),
         "controller": ("Tổ điều hành diễn tập", "Drill controller"), "evaluator": ("Đánh giá viên", "Evaluator"),
         "viewer": ("Lãnh đạo", "Leader")}


def word(key: str, lang: str, **kw) -> str:
    vi, en = WORDS[key]
    text = en if lang == "en" else vi
    return text.format(**kw) if kw else text


def pick(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    pair = table.get(key)
    return (pair[1] if lang == "en" else pair[0]) if pair else key
