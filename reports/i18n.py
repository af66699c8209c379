"""The reports' words in Vietnamese (default) and English."""

from __future__ import annotations

from findings.errors import UsageError

WORDS: dict[str, tuple[str, str]] = {
    "none": ("Không có.", "None."),
    "periodic": ("Báo cáo định kỳ an toàn thông tin", "Periodic information security report"),
    "ranking": ("Xếp hạng mức độ sẵn sàng của các cơ quan", "Readiness ranking of agencies"),
    "member": ("Báo cáo của thành viên mạng lưới ứng cứu sự cố (Mẫu 05, Thông tư 20/2017/TT-BTTTT)",
               "Incident response network member report (Form 05, Circular 20/2017/TT-BTTTT)"),
    "compliance": ("Báo cáo đánh giá tuân thủ yêu cầu bảo đảm an toàn hệ thống thông tin theo cấp độ",
                   "Annual level-compliance report of information systems"),
    "period": ("Kỳ báo cáo", "Period"), "from_to": ("Từ ngày {a} đến ngày {b}", "From {a} to {b}"),
    "scope": ("Phạm vi", "Scope"), "city_scope": ("Toàn thành phố", "Whole city"),
    "generated": ("Ngày lập", "Generated"), "source": ("Nguồn dữ liệu", "Data source"),
    "draft": ("Bản nháp do citysec lập — cần cán bộ có thẩm quyền rà soát", "Draft produced by citysec — to be reviewed"),
    "agency": ("Cơ quan", "Agency"), "host": ("Địa chỉ", "Address"), "host_name": ("Tên máy", "Host name"),
    "hosts": ("Số máy", "Hosts"), "check": ("Kiểm tra", "Check"), "severity": ("Mức độ", "Severity"),
    "port": ("Cổng", "Port"), "banner": ("Phiên bản dịch vụ", "Service banner"), "first_seen": ("Phát hiện lần đầu", "First seen"), "count": ("Số lượng", "Count"),
    "reason": ("Lý do", "Reason"), "verdict": ("Kết quả", "Verdict"),
    "overview": ("Tổng quan", "Overview"),
    "av": ("Phòng chống mã độc (mục tiêu 100 % máy)", "Antivirus coverage (target 100 %)"),
    "av_pct": ("Tỷ lệ máy có phòng chống mã độc", "Antivirus coverage"),
    "covered": ("Máy được bảo vệ", "Covered hosts"), "uncovered": ("Máy chưa được bảo vệ", "Hosts not covered"),
    "no-data": ("chưa có dữ liệu phòng chống mã độc", "no antivirus data"),
    "exposure": ("Dịch vụ bị cấm đang mở", "Exposed forbidden services"),
    "exposure_open": ("Dịch vụ cấm đang mở", "Open forbidden services"), "new": ("Mới trong kỳ", "New in period"),
    "backups": ("Sao lưu dữ liệu", "Backup compliance"), "backup_pct": ("Tỷ lệ sao lưu đạt", "Backups compliant"),
    "backup_failing": ("Sao lưu không đạt", "Backups not compliant"), "checked": ("Đã kiểm tra", "Checked"),
    "compliant": ("Đạt", "Compliant"),
    "rogue": ("Thiết bị lạ trên mạng", "Rogue devices"), "rogue_open": ("Thiết bị lạ còn trên mạng", "Rogue devices present"),
    "seen": ("Phát hiện trong kỳ", "Seen in period"),
    "detections": ("Phát hiện từ nhật ký", "Log-based detections"),
    "incidents": ("Sự cố", "Incidents"), "type": ("Loại sự cố", "Incident type"),
    "alone": ("Tự xử lý", "Handled alone"), "helped": ("Có hỗ trợ", "With help"),
    "contain_h": ("Thời gian ngăn chặn TB (giờ)", "Mean time to contain (h)"),
    "close_h": ("Thời gian đóng TB (giờ)", "Mean time to close (h)"),
    "deadline_met": ("Đúng hạn báo cáo", "Deadlines met"), "deadline_missed": ("Trễ hạn", "Deadlines missed"),
    "drills": ("Diễn tập", "Drills"),
    "no_drill": ("Chưa có cuộc diễn tập nào được ghi nhận trong kỳ.", "No drill is recorded for this period."),
    "exercise": ("Cuộc diễn tập", "Exercise"), "rating": ("Đánh giá", "Rating"),
    "open_actions": ("Hành động khắc phục còn mở", "Open corrective actions"), "due": ("Hạn", "Due"),
    "title": ("Nội dung", "Title"),
    "age": ("Phát hiện còn mở theo tuổi (ngày)", "Open findings by age (days)"),
    "open_findings": ("Phát hiện còn mở", "Open findings"), "fixed": ("Đã khắc phục trong kỳ", "Fixed in period"),
    "ttf": ("Thời gian khắc phục trung vị (ngày)", "Median time to fix (days)"),
    "change": ("Thay đổi so với kỳ trước", "Change since the previous period"),
    "figure": ("Chỉ tiêu", "Figure"), "now": ("Kỳ này", "This period"), "before": ("Kỳ trước", "Previous period"),
    "delta": ("Chênh lệch", "Change"),
    "remedies": ("Kiến nghị biện pháp khắc phục (theo mức rủi ro)", "Recommended remedies (by risk)"),
    "risk": ("Điểm rủi ro", "Risk"), "remedy": ("Biện pháp", "Remedy"),
    "remedy_default": ("Xem hướng dẫn của kiểm tra {check} và khắc phục.", "See the guidance of check {check} and fix it."),
    "more": ("… và {n} dòng khác (đầy đủ trong tệp CSV/JSON).", "… and {n} more rows (all in the CSV/JSON output)."),
    "unknown_agencies": ("Dữ liệu của cơ quan không có trong cấu hình: {ids}", "Data of agencies not in the configuration: {ids}"),
    "av_coverage_pct": ("Tỷ lệ phòng chống mã độc", "Antivirus coverage"),
    "score": ("Điểm", "Score"), "rank": ("Hạng", "Rank"), "trend": ("Xu hướng", "Trend"),
    "components": ("Thành phần điểm", "Score components"), "weight": ("Trọng số", "Weight"),
    "coverage": ("Phòng chống mã độc", "Coverage"), "time_to_fix": ("Thời gian khắc phục", "Time to fix"),
    "incident_handling": ("Xử lý sự cố", "Incident handling"),
    "no_data": ("không có dữ liệu", "no data"),
    "method": ("Cách tính", "Method"),
    "national": ("Đề nghị hỗ trợ quốc gia", "National help requested"), "outside": ("Có hỗ trợ trong nước", "With outside help"),
    "foreign": ("Có hỗ trợ nước ngoài", "With foreign help"), "self": ("Tự xử lý", "Self-handled"),
    "damage": ("Thiệt hại ước tính (đồng)", "Estimated damage (VND)"), "supporters": ("Tổ chức hỗ trợ", "Supporting organisations"),
    "system": ("Hệ thống thông tin", "Information system"), "level": ("Cấp độ", "Level"),
    "criterion": ("Tiêu chí", "Criterion"), "met": ("Đáp ứng", "Met"), "evidence": ("Bằng chứng", "Evidence"),
    "roadmap": ("Lộ trình khắc phục", "Roadmap"), "yes": ("Đạt", "Met"), "no": ("Chưa đạt", "Not met"),
    "critical": ("Nghiêm trọng", "Critical"), "high": ("Cao", "High"), "medium": ("Trung bình", "Medium"),
    "low": ("Thấp", "Low"), "info": ("Thông tin", "Info"),
    "P": ("P (thực hiện tốt)", "P (performed)"), "S": ("S (một số khó khăn)", "S (some challenges)"),
    "M": ("M (nhiều khó khăn)", "M (major challenges)"), "U": ("U (không thực hiện được)", "U (unable)"),
    "not_assessed": ("Chưa đánh giá được", "Not assessed"), "target": ("Thời hạn đề xuất", "Target date"),
}

# The after-action report and improvement plan of a drill (reports.aar).
WORDS.update({
    "aar": ("Báo cáo sau diễn tập và kế hoạch khắc phục", "After-action report and improvement plan"),
    "aar_run": ("Lượt diễn tập", "Drill run"), "scenario": ("Kịch bản", "Scenario"),
    "started": ("Bắt đầu", "Started"), "ended": ("Kết thúc", "Ended"), "mode": ("Hình thức", "Mode"),
    "speed": ("Hệ số tăng tốc", "Speed"), "state": ("Trạng thái", "State"), "organizer": ("Đơn vị tổ chức", "Organiser"),
    "aar_scope_hosts": ("Máy trong phạm vi tác động", "Range hosts acted on"),
    "aar_scope_agencies": ("Cơ quan trong phạm vi tác động", "Agencies acted on"),
    "summary": ("Tóm tắt kịch bản", "Scenario summary"), "roe": ("Quy tắc tham gia", "Rules of engagement"),
    "objectives": ("Mục tiêu diễn tập", "Exercise objectives"), "objective": ("Mục tiêu", "Objective"),
    "capability": ("Năng lực", "Capability"), "critical_tasks": ("Nhiệm vụ trọng yếu", "Critical tasks"),
    "rated_agencies": ("Cơ quan được đánh giá", "Rated agencies"), "evaluator": ("Người đánh giá", "Evaluator"),
    "participants": ("Thành phần tham gia", "Participants"), "participant": ("Thành phần", "Participant"),
    "name": ("Tên", "Name"), "kind": ("Loại", "Kind"), "role": ("Vai trò", "Role"), "contacts": ("Liên hệ", "Contacts"),
    "timeline": ("Diễn biến", "Timeline"), "time": ("Thời điểm", "Time"),
    "scenario_time": ("Thời gian kịch bản", "Scenario time"), "event": ("Sự kiện", "Event"),
    "detail": ("Chi tiết", "Detail"),
    "expectations": ("Kết quả mong đợi theo tình huống", "Expectations per inject"),
    "inject": ("Tình huống", "Inject"), "expectation": ("Kết quả mong đợi", "Expectation"),
    "window": ("Thời hạn (kịch bản)", "Window (scenario)"), "met_at": ("Đạt lúc", "Met at"),
    "due_at": ("Hạn lúc", "Due at"), "ttr_real": ("Thời gian phản ứng thực (giây)", "Time to respond, real (s)"),
    "ttr_scenario": ("Thời gian phản ứng kịch bản (giây)", "Time to respond, scenario (s)"),
    "exp_counts": ("Đạt {met} · Không đạt {missed} · Đang chờ {pending} · Người đánh giá {rated} · Không áp dụng {na}",
                   "Met {met} · missed {missed} · pending {pending} · rated by evaluators {rated} · not applicable {na}"),
    "ratings": ("Đánh giá theo mục tiêu (HSEEP)", "Ratings per objective (HSEEP)"),
    "note": ("Nhận xét của người đánh giá", "Evaluator's note"), "not_rated": ("Chưa đánh giá", "Not rated"),
    "strengths": ("Điểm mạnh", "Strengths"), "improvements": ("Điểm cần cải thiện", "Areas for improvement"),
    "analysis": ("Điểm mạnh và điểm cần cải thiện", "Strengths and areas for improvement"),
    "finding_source": ("Nguồn", "Source"), "src_evaluator": ("Người đánh giá", "Evaluator"),
    "src_expectation": ("Kết quả mong đợi không đạt", "Missed expectation"),
    "lapses": ("Sai sót nghiêm trọng đã báo ngay", "Critical lapses (flagged at once)"),
    "notified": ("Đã báo qua", "Notified through"), "message": ("Nội dung", "Message"),
    "feedback": ("Ý kiến của thành phần tham gia", "Participant feedback"), "question": ("Câu hỏi", "Question"),
    "answer": ("Trả lời", "Answer"),
    "plan": ("Kế hoạch khắc phục", "Improvement plan"), "action_id": ("Mã", "Id"),
    "action": ("Hành động khắc phục", "Corrective action"), "responsible": ("Đơn vị chịu trách nhiệm", "Responsible organisation"),
    "contact": ("Người liên hệ", "Contact"), "start": ("Bắt đầu", "Start"), "status": ("Trạng thái", "Status"),
    "open": ("Đang mở", "Open"), "closed": ("Đã đóng", "Closed"), "retested": ("Kiểm tra lại trong lượt này", "Retested in this run"),
    "definitions": ("Định nghĩa các mức đánh giá HSEEP", "HSEEP rating definitions"), "definition": ("Định nghĩa", "Definition"),
    "code": ("Mức", "Rating"),
    "ev_run_started": ("Bắt đầu diễn tập", "Drill started"), "ev_inject_sent": ("Gửi tình huống", "Inject sent"),
    "ev_inject_refused": ("Tình huống bị từ chối", "Inject refused"), "ev_inject_failed": ("Tình huống lỗi", "Inject failed"),
    "ev_expectation_met": ("Đạt kết quả mong đợi", "Expectation met"),
    "ev_expectation_missed": ("Không đạt kết quả mong đợi", "Expectation missed"),
    "ev_cleanup_done": ("Đã hoàn nguyên", "Cleanup done"), "ev_cleanup_failed": ("Hoàn nguyên lỗi", "Cleanup failed"),
    "ev_lapse": ("Sai sót nghiêm trọng", "Critical lapse"), "ev_run_paused": ("Tạm dừng", "Paused"),
    "ev_run_resumed": ("Tiếp tục", "Resumed"), "ev_run_aborted": ("Huỷ diễn tập", "Aborted"),
    "ev_run_completed": ("Kết thúc diễn tập", "Drill completed"), "ev_run_failed": ("Diễn tập lỗi", "Drill failed"),
    "st_met": ("Đạt", "Met"), "st_missed": ("Không đạt", "Missed"), "st_pending": ("Đang chờ", "Pending"),
    "st_rated": ("Người đánh giá chấm", "Rated by evaluator"), "st_not_applicable": ("Không áp dụng", "Not applicable"),
})

TYPES: dict[str, tuple[str, str]] = {
    "denial_of_service": ("Tấn công từ chối dịch vụ", "Denial of service"),
    "phishing": ("Tấn công giả mạo", "Phishing / spoofing"), "malware": ("Mã độc", "Malware"),
    "unauthorized_access": ("Truy cập trái phép, chiếm quyền", "Unauthorised access or takeover"),
    "defacement": ("Thay đổi giao diện", "Defacement"),
    "ransomware": ("Mã hoá dữ liệu, thiết bị", "Ransomware"),
    "data_destruction": ("Phá huỷ dữ liệu, phần mềm", "Destruction of data or software"),
    "data_theft": ("Nghe lén, đánh cắp dữ liệu", "Eavesdropping or data theft"),
    "combined": ("Tấn công tổng hợp", "Combined attack"), "other": ("Khác", "Other"),
}
SEVERITY = {"info": ("Thông tin", "Info"), "low": ("Thấp", "Low"), "medium": ("Trung bình", "Medium"),
            "high": ("Cao", "High"), "critical": ("Nghiêm trọng", "Critical")}


def check_lang(lang: str) -> str:
    if lang not in ("vi", "en"):
        raise UsageError(f"--lang {lang!r}: expected vi or en")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "vi" else pair[1]


def tr(key: str, lang: str, **kw) -> str:
    text = _pick(WORDS[key], lang) if key in WORDS else key
    return text.format(**kw) if kw else text


def incident_type(code: str, lang: str) -> str:
    return _pick(TYPES.get(code, (code, code)), lang)


def severity(code: str, lang: str) -> str:
    return _pick(SEVERITY.get(code, (code, code)), lang)
