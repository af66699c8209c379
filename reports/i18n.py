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
    "ttr": ("Thời gian phản ứng, thực / kịch bản (giây)", "Time to respond, real / scenario (s)"),
    "exp_counts": ("Đạt {met} · Không đạt {missed} · Đang chờ {pending} · Chờ người đánh giá {rated} · "
                   "Không áp dụng {na}",
                   "Met {met} · missed {missed} · pending {pending} · for the evaluators {rated} · "
                   "not applicable {na}"),
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
    "ev_inject_refused": ("Tình huống bị từ chối", "Inject refused"),
    "ev_inject_skipped": ("Tình huống không gửi (bỏ qua)", "Inject not sent (skipped)"), "ev_inject_failed": ("Tình huống lỗi", "Inject failed"),
    "ev_expectation_met": ("Đạt kết quả mong đợi", "Expectation met"),
    "ev_expectation_missed": ("Không đạt kết quả mong đợi", "Expectation missed"),
    "ev_cleanup_done": ("Đã hoàn nguyên", "Cleanup done"), "ev_cleanup_failed": ("Hoàn nguyên lỗi", "Cleanup failed"),
    "ev_lapse": ("Sai sót nghiêm trọng", "Critical lapse"), "ev_run_paused": ("Tạm dừng", "Paused"),
    "ev_run_resumed": ("Tiếp tục", "Resumed"), "ev_run_aborted": ("Huỷ diễn tập", "Aborted"),
    "ev_run_ended": ("Ban điều hành kết thúc diễn tập (ENDEX)", "Ended by the control cell (ENDEX)"),
    "ev_run_completed": ("Kết thúc diễn tập", "Drill completed"), "ev_run_failed": ("Diễn tập lỗi", "Drill failed"),
    "st_met": ("Đạt", "Met"), "st_missed": ("Không đạt", "Missed"), "st_pending": ("Đang chờ", "Pending"),
    "st_rated": ("Chờ người đánh giá", "For the evaluators"), "st_not_applicable": ("Không áp dụng", "Not applicable"),
    "mode_live": ("Thực chiến trên hệ thống diễn tập", "Live, on the range"),
    "mode_accelerated": ("Thực chiến, thời gian rút ngắn", "Live, accelerated"),
    "mode_tabletop": ("Diễn tập trên bàn (thảo luận)", "Tabletop (discussion)"),
    "role_player": ("Đơn vị tham gia xử lý", "Player"), "role_controller": ("Ban điều hành", "Controller"),
    "role_evaluator": ("Người đánh giá", "Evaluator"), "role_observer": ("Quan sát viên", "Observer"),
    "cleanup_verified": ("đã kiểm tra: môi trường diễn tập trở lại như mô tả",
                         "verified: the range is as described again"),
    "inj_console": ("qua bàn điều khiển", "at the console"), "inj_email": ("qua thư điện tử", "by email"),
    "inj_file": ("qua tệp của đội", "as a team file"), "inj_technical": ("tác động kỹ thuật", "technical"),
    "exk_detect": ("phát hiện", "detection"), "exk_case_opened": ("hồ sơ sự cố được mở", "case opened"),
    "exk_step_done": ("hoàn thành bước xử lý", "step done"), "exk_approval": ("phê duyệt", "approval"),
    "exk_report_sent": ("gửi báo cáo", "report sent"), "exk_evaluator": ("người đánh giá", "evaluator"),
    "kind_agency": ("Cơ quan nhà nước", "State agency"), "kind_enterprise": ("Doanh nghiệp", "Enterprise"),
    "ent_network_provider": ("nhà cung cấp mạng", "network provider"),
    "ent_security_vendor": ("nhà cung cấp dịch vụ an toàn thông tin", "security vendor"),
    "ent_other": ("khác", "other"),
    "run_running": ("Đang diễn ra", "Running"), "run_paused": ("Tạm dừng", "Paused"),
    "run_completed": ("Đã kết thúc", "Completed"), "run_aborted": ("Đã huỷ", "Aborted"),
    "run_failed": ("Lỗi", "Failed"), "run_pending": ("Chưa bắt đầu", "Not started"),
})

# The ranking's explanation, the paper and the words that replace codes.
WORDS.update({
    "rank_table": ("Bảng xếp hạng", "Ranking table"),
    "score_now": ("Điểm kỳ này", "Score this period"), "score_axis": ("Điểm (thang 100)", "Score (out of 100)"),
    "rank_intro": ("Xếp hạng theo điểm sẵn sàng của kỳ {period}; các cột sau là điểm của các kỳ trước "
                   "(\"không có dữ liệu\" khi kỳ đó chưa có quan sát nào). Cách tính ở mục cuối.",
                   "Ranked by the readiness score of {period}; the following columns are the scores of the "
                   "previous periods (\"no data\" where that period has no observation). The method is in the "
                   "last section."),
    "components_intro": ("Giá trị của từng thành phần (0–100) trước khi nhân trọng số.",
                         "Each component's value (0–100) before weighting."),
    "method_intro": ("Điểm = tổng (trọng số × thành phần) / tổng trọng số của các thành phần có dữ liệu. "
                     "Thành phần không có dữ liệu không được tính (không cho 0 điểm, không cho điểm tối đa); "
                     "cơ quan không có dữ liệu nào trong kỳ không được xếp hạng.",
                     "Score = sum(weight × component) / sum of the weights of the components with data. A component "
                     "without data is left out (neither 0 nor full marks); an agency with no data in the period is "
                     "not ranked."),
    "component": ("Thành phần", "Component"), "formula": ("Cách tính", "How it is computed"),
    "when_no_data": ("Khi không có dữ liệu", "When there is no data"),
    "exposure_score": ("Dịch vụ cấm", "Forbidden services"),
    "f_coverage": ("Tỷ lệ % máy thấy trong kỳ có phần mềm phòng chống mã độc hoạt động và cập nhật",
                   "Percent of the hosts seen in the period with running, up-to-date antivirus"),
    "f_exposure": ("Tỷ lệ % máy không có dịch vụ cấm đang mở (không tính cảnh báo sai)",
                   "Percent of the hosts with no open forbidden service (false positives left out)"),
    "f_backups": ("Tỷ lệ % kiểm tra sao lưu đạt", "Percent of backup checks passing"),
    "f_time_to_fix": ("Tỷ lệ % phát hiện được khắc phục đúng hạn (rủi ro được chấp nhận không tính); nếu không có "
                      "hạn nào trong kỳ: 100 khi thời gian khắc phục trung vị ≤ 7 ngày, 0 khi ≥ 90 ngày, tuyến tính ở giữa",
                      "Percent of findings fixed within their deadline (accepted risks left out); with no deadline in "
                      "the period: 100 at a median time to fix ≤ 7 days, 0 at ≥ 90 days, linear between"),
    "f_incidents": ("Tỷ lệ % sự cố đã đến hạn báo cáo và báo cáo đúng hạn (sự cố chưa đến hạn không tính)",
                    "Percent of the incidents whose reporting deadline has come that met it (cases still in time "
                    "are not counted)"),
    "f_drills": ("Điểm trung bình đánh giá diễn tập: P = 100, S = 70, M = 30, U = 0",
                 "Mean drill rating: P = 100, S = 70, M = 30, U = 0"),
    "nd_coverage": ("Không có máy nào được thấy trong kỳ: không tính", "No host seen in the period: left out"),
    "nd_exposure": ("Không có máy nào được thấy trong kỳ: không tính", "No host seen in the period: left out"),
    "nd_backups": ("Không có kiểm tra sao lưu nào: không tính", "No backup checked: left out"),
    "nd_time_to_fix": ("Không có phát hiện nào đến hạn, được khắc phục hoặc còn mở: không tính",
                       "Nothing due, fixed or open: left out"),
    "nd_incidents": ("Không có sự cố nào đã đến hạn báo cáo (kể cả khi không có sự cố): không tính",
                     "No incident whose deadline has come (also when there is no incident): left out"),
    "nd_drills": ("Không có đánh giá diễn tập nào trong kỳ: không tính", "No drill rating in the period: left out"),
    "no_data_period": ("Kỳ báo cáo này không có dữ liệu: không có quan sát nào trong kỳ. Các số liệu dưới đây "
                       "để trống, không phải bằng 0.",
                       "This period has no data: nothing was observed in it. The figures below are blank, not zero."),
    "no_data_previous": ("Kỳ trước không có dữ liệu: cột \"Kỳ trước\" để trống (—).",
                         "The previous period has no data: the \"Previous period\" column is blank (—)."),
    "src_sqlite": ("Cơ sở dữ liệu phát hiện tại Trung tâm (SQLite)", "The SOC's findings store (SQLite)"),
    "src_es": ("Kho dữ liệu toàn thành phố (Elasticsearch)", "The city-wide data store (Elasticsearch)"),
    "v_pass": ("đạt", "pass"), "v_fail": ("không đạt", "fail"), "v_error": ("lỗi khi kiểm tra", "error"),
    "v_incomplete": ("chưa đủ dữ liệu", "incomplete"), "v_skipped": ("bỏ qua", "skipped"),
    "incident_id": ("Mã sự cố", "Incident id"), "opened": ("Ngày mở", "Opened"),
    "page": ("Trang {n}/{total}", "Page {n} of {total}"),
    "qh1": ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "qh2": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "place_date": ("{place}, ngày {d} tháng {m} năm {y}", "{place}, {date}"),
    "recipients": ("Nơi nhận", "To"), "signer": ("NGƯỜI ĐỨNG ĐẦU CƠ QUAN", "HEAD OF AGENCY"),
    "sign_note": ("(Ký, ghi rõ họ tên, đóng dấu)", "(Signature, full name, seal)"),
    "archive": ("Lưu: VT", "File: records office"),
    "incidents_by_type": ("Số sự cố theo loại và hình thức xử lý", "Incidents by type and how they were handled"),
    "form05_intro": ("Mỗi sự cố được tính một lần, theo loại và theo hình thức xử lý (tự xử lý, có hỗ trợ trong "
                     "nước, có hỗ trợ nước ngoài, đề nghị hỗ trợ quốc gia); dòng tổng cộng bằng tổng các dòng.",
                     "Each incident counts once, by type and by how it was handled (alone, with help from within "
                     "the country, with foreign help, national help requested); the total row is the sum of the rows."),
    "criteria": ("Kết quả theo tiêu chí (TCVN 11930:2017)", "Result per criterion (TCVN 11930:2017)"),
    "clause": ("Điều khoản", "Clause"), "criterion_met": ("Kết quả", "Result"),
    "evidence_text": ("{n} kết quả kiểm tra, lần gần nhất ngày {d}.", "{n} check results, the last on {d}."),
    "no_evidence": ("Chưa có kết quả kiểm tra nào.", "No check result yet."),
    "failing": ("Không đạt", "Not met by"),
    "agency_col": ("Cơ quan", "Agency"), "per_severity": ("theo mức độ", "by severity"), "value": ("Giá trị", "Value"), "total_row": ("Tổng cộng", "Total"),
})

PERIODS = {"half1": ("6 tháng đầu năm {y}", "first half of {y}"), "half2": ("6 tháng cuối năm {y}", "second half of {y}"),
           "year": ("năm {y}", "year {y}"), "compliance": ("năm đánh giá {y}", "compliance year {y}")}


def period_name(label: str, lang: str) -> str:
    """A period as words: ``2026-H2`` → "6 tháng cuối năm 2026" / "second half of 2026"."""
    if label.startswith("C") and label[1:].isdigit():
        y = int(label[1:])
        return _pick(PERIODS["compliance"], lang).format(y=y, p=y - 1)
    if "-H" in label:
        y, h = label.split("-H")
        return _pick(PERIODS["half" + h], lang).format(y=y)
    return _pick(PERIODS["year"], lang).format(y=label) if label.isdigit() else label


def source_name(source: str, lang: str) -> str:
    return tr(f"src_{source}", lang) if f"src_{source}" in WORDS else source


def verdict(code: str | None, lang: str) -> str:
    return tr(f"v_{code}", lang) if f"v_{code}" in WORDS else (code or "—")


def check_name(cid: str, lang: str, names: dict[str, dict[str, str]] | None) -> str:
    """A check's name in the reader's language, from the catalogues' names (``names``)."""
    entry = (names or {}).get(cid)
    return entry[lang] if entry and entry.get(lang) else cid


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


def _validate() -> None:
    """Every word has both languages (a missing translation is an error when reports load)."""
    for table in (WORDS, TYPES, SEVERITY, PERIODS):
        for key, pair in table.items():
            if len(pair) != 2 or not all(isinstance(x, str) and x.strip() for x in pair):
                raise RuntimeError(f"reports.i18n: {key!r} needs its Vietnamese and English text")


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


_validate()
