"""A known data set: two agencies over 2026, with the figures the reports must show for 2026-H2.

The expected figures (EXPECTED_*) are worked out by hand from the observations below.
"""

from __future__ import annotations

from datetime import UTC, datetime

from findings import Finding, Store

HOSTILE_NAME = "<script>document.title='pwned'</script>evil-host"
HOSTILE_BANNER = "<script>document.title='pwned-banner'</script>Telnetd 1.0"
A, B = "so-a", "so-b"
REM = {"vi": "Tắt dịch vụ Telnet; dùng SSH.", "en": "Disable Telnet; use SSH."}


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _state(check, agency, host, verdict, when, severity="high", **kw) -> Finding:
    return Finding(check=check, agency=agency, host_ip=host, verdict=verdict, severity=severity,
                   timestamp=t(when), run_id=f"run-{when}", message=f"{check} {verdict}", **kw)


def _case(agency, cid, action, when, **attrs) -> Finding:
    return Finding(check="case.event", agency=agency, kind="event", dataset="citysec.case",
                   timestamp=t(when), subject=cid, message=f"case {cid} {action}",
                   details={"id": cid, "action": action, **attrs})


def observations() -> list[Finding]:
    f = [
        _state("av.missing", A, "198.18.90.11", "pass", "2026-08-01T01:00:00", host_name="pc1"),
        _state("av.outdated", A, "198.18.90.11", "pass", "2026-08-01T01:00:00", host_name="pc1"),
        _state("av.outdated", A, "198.18.90.12", "fail", "2026-08-01T01:00:00", host_name="pc2"),
        _state("av.outdated", A, "198.18.90.12", "fail", "2026-09-01T01:00:00", host_name="pc2"),
        _state("av.missing", A, "198.18.90.13", "fail", "2026-08-01T01:00:00", host_name=HOSTILE_NAME),
        _state("exposure.telnet", A, "198.18.90.13", "fail", "2026-08-02T01:00:00", host_name=HOSTILE_NAME,
               port=23, transport="tcp", service_name="telnet", service_version=HOSTILE_BANNER,
               check_name="Telnet", remediation=REM),
        _state("exposure.rdp", A, "198.18.90.11", "fail", "2026-03-01T01:00:00", port=3389, transport="tcp"),
        _state("exposure.rdp", A, "198.18.90.11", "pass", "2026-07-15T01:00:00", port=3389, transport="tcp"),
        _state("exposure.vnc", A, "198.18.90.11", "fail", "2026-07-10T01:00:00", port=5900, transport="tcp"),
        _state("exposure.vnc", A, "198.18.90.11", "fail", "2026-07-13T01:00:00", port=5900, transport="tcp"),
        _state("exposure.vnc", A, "198.18.90.11", "pass", "2026-07-20T01:00:00", port=5900, transport="tcp"),
        _state("backup.stale", A, "198.18.90.11", "pass", "2026-08-01T01:00:00", severity="medium"),
        _state("backup.failed", A, "198.18.90.13", "fail", "2026-08-01T01:00:00", severity="medium"),
        _state("discovery.rogue", A, "198.18.90.66", "fail", "2026-10-01T01:00:00", severity="medium"),
        _state("av.missing", B, "198.18.91.11", "pass", "2026-08-01T01:00:00", host_name="b-pc1"),
        _state("exposure.mysql", B, "198.18.91.11", "fail", "2026-02-01T01:00:00", severity="medium", port=3306,
               transport="tcp"),
        _state("exposure.mysql", B, "198.18.91.11", "fail", "2026-08-01T01:00:00", severity="medium", port=3306,
               transport="tcp"),
    ]
    for i, when in enumerate(("2026-07-05T01:00:00", "2026-07-06T01:00:00", "2026-12-30T10:00:00")):
        f.append(Finding(check="log.ssh_bruteforce", agency=A, kind="alert", severity="high",
                         host_ip="198.18.90.12", timestamp=t(when), message=f"brute force {i}",
                         dataset="citysec.logs"))
    f.append(Finding(check="log.ssh_bruteforce", agency=A, kind="alert", severity="high", host_ip="198.18.90.12",
                     timestamp=t("2026-05-05T01:00:00"), message="brute force H1", dataset="citysec.logs"))
    f.append(Finding(check="log.sudo", agency=B, kind="alert", severity="medium", host_ip="198.18.91.11",
                     timestamp=t("2026-11-05T01:00:00"), message="sudo", dataset="citysec.logs"))
    c1 = {"type": "malware", "help": "self", "deadline_met": True, "title": "Mã độc trên pc2"}
    f += [_case(A, "c1", "opened", "2026-09-01T08:00:00", **c1),
          _case(A, "c1", "contained", "2026-09-01T14:00:00", **c1),
          _case(A, "c1", "closed", "2026-09-03T08:00:00", **c1)]
    c2 = {"type": "phishing", "help": "national", "damage_vnd": 5000000, "supporters": ["VNCERT/CC"],
          "deadline_met": False, "title": "Thư giả mạo"}
    f += [_case(B, "c2", "opened", "2026-10-10T00:00:00", **c2),
          _case(B, "c2", "contained", "2026-10-10T12:00:00", **c2)]
    f += [Finding(check="exercise.rating", agency=B, kind="event", dataset="citysec.exercise",
                  timestamp=t("2026-11-20T03:00:00"), subject="ex-2026",
                  details={"id": "ex-2026", "name": "Diễn tập 2026", "name_en": "Drill 2026", "rating": "S"}),
          Finding(check="exercise.action", agency=B, kind="event", dataset="citysec.exercise",
                  timestamp=t("2026-11-21T03:00:00"), subject="ca-1",
                  details={"id": "ex-2026", "name": "Diễn tập 2026", "name_en": "Drill 2026", "action_id": "ca-1", "action_title": "Cập nhật danh bạ khẩn cấp",
                           "action_status": "open", "action_due": "2027-02-01"})]
    return f


def build(path) -> Store:
    store = Store(path, synchronous="OFF")
    obs = sorted(observations(), key=lambda f: f.timestamp)
    for f in obs:
        store.record([f])
    return store


EXPECTED_A = {"hosts": 4, "av_coverage_pct": 25.0, "exposure_open": 1, "backup_pct": 50.0, "rogue_open": 1,
              "detections": 3, "incidents": 1, "open_findings": 5, "fixed": 1}
EXPECTED_B = {"hosts": 1, "av_coverage_pct": 100.0, "exposure_open": 1, "backup_pct": None, "rogue_open": 0,
              "detections": 1, "incidents": 1, "open_findings": 1, "fixed": 0}
