"""Incidents counted right: findings correlate into one case per incident (same host and playbook,
or a brute force's source across hosts) while it is open; a dry run is never an incident; case
record fields are checked when set. Real SQLite store and case engine, a fake transport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pb_helpers import alert

from findings import Finding
from findings.errors import ConfigError, UsageError
from findings.model import to_document
from findings.query_sqlite import SqliteQuery
from playbooks import case_metrics
from playbooks import operations as op
from playbooks.deadlines import Rule
from playbooks.triggers import correlation_key, evaluate
from playbooks.views import timeline
from reports import cases as cs
from reports.gather import gather
from reports.member import form05
from reports.period import Period

H1, H2 = "198.19.49.10", "198.19.49.11"
T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
HALF = Period("2026-H2", datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def _state(check, host=H1, **kw):
    return Finding(check=check, agency="pb-a", verdict="fail", severity="high", host_ip=host, message=check,
                   timestamp=T0, **kw)


def _cases(store, playbook):
    return {r["id"]: dict(r) for r in store.query("SELECT * FROM cases WHERE playbook=? ORDER BY opened_at",
                                                   (playbook,))}


def _figures(store):
    g = gather(SqliteQuery(store), HALF)
    return cs.incidents(cs.case_list(g.case_times, g.cases, g.period))


def test_a_failed_backup_seen_three_ways_is_one_incident(engine, store):
    """backup job failed, backup stale and the log alert of the same failure: one case, the later two
    attached to it and in its timeline; another host's failure is another incident."""
    store.record([_state("backup.failed", subject="job-1"), _state("backup.stale", subject="sys-1"),
                  alert("log.backup_failed", host=H1, source=None, user=None, severity="medium"),
                  _state("backup.stale", host=H2, subject="sys-1")])
    assert evaluate(engine) == {"seen": 4, "opened": 2, "attached": 2}
    cases = _cases(store, "backup-failed")
    by_host = {c["host"]: cid for cid, c in cases.items()}
    assert set(by_host) == {H1, H2}
    opened = next(e["data"] for e in timeline(engine, by_host[H1]) if e["what"] == "opened")
    attached = [e["data"]["check"] for e in timeline(engine, by_host[H1]) if e["what"] == "finding_attached"]
    assert len(opened["findings"]) == 1 and len(attached) == 2
    assert {*attached, engine.show(by_host[H1])["findings"][0]["citysec"]["check"]} == \
        {"backup.failed", "backup.stale", "log.backup_failed"}
    assert len(engine.show(by_host[H1])["findings"]) == 3 and len(engine.show(by_host[H2])["findings"]) == 1
    # the next cycle sees the same failing checks again: the same findings, nothing new to attach
    store.record([_state("backup.failed", subject="job-1").with_(timestamp=T0 + timedelta(hours=1))])
    assert evaluate(engine)["opened"] == 0
    assert [e["what"] for e in timeline(engine, by_host[H1])].count("finding_attached") == 2
    assert _figures(store)["total"] == 2


def test_antivirus_missing_and_outdated_on_one_host_is_one_incident(engine, store):
    store.record([_state("av.missing"), _state("av.outdated")])
    assert evaluate(engine) == {"seen": 2, "opened": 1, "attached": 1}


def test_brute_force_correlates_by_source_across_hosts(engine, store):
    """ssh-brute-force (correlate: source): one source against two hosts is one incident; another
    source is another. contain-test matches the same alerts but correlates by host."""
    store.record([alert(host=H1, source="198.19.50.10"), alert(host=H2, source="198.19.50.10")])
    counts = evaluate(engine)
    assert len(_cases(store, "ssh-brute-force")) == 1
    assert len(_cases(store, "contain-test")) == 2
    assert counts == {"seen": 2, "opened": 3, "attached": 1}
    store.record([alert(host=H1, source="198.19.50.99", when=datetime(2026, 11, 30, 7, 45, tzinfo=UTC))])
    evaluate(engine)
    assert len(_cases(store, "ssh-brute-force")) == 2 and len(_cases(store, "contain-test")) == 2


def test_correlation_key_is_host_or_source():
    lib_doc = to_document(alert(host=H1, source="198.19.50.10"))
    from playbooks import load_library
    lib = load_library()
    assert correlation_key(lib["ssh-brute-force"].playbook, lib_doc) == "pb-a|source:198.19.50.10"
    assert correlation_key(lib["malware-detected"].playbook, lib_doc) == f"pb-a|host:{H1}"
    no_source = to_document(alert(host=H2, source=None))
    assert correlation_key(lib["ssh-brute-force"].playbook, no_source) == f"pb-a|host:{H2}"


def _close_contain_test(engine, cid):
    op.complete_step(engine, cid, "triage", "soc")
    op.decide(engine, cid, "approve-isolate", "incident_lead", "lead", "decline")
    return op.complete_step(engine, cid, "lessons", "lead")


def test_a_closed_case_does_not_swallow_a_new_incident(engine, store, clock):
    store.record([alert(host=H1)])
    evaluate(engine)
    (first,) = _cases(store, "contain-test")
    assert _close_contain_test(engine, first)["status"] == "closed"
    clock.advance(hours=2)
    store.record([alert(host=H1, when=clock.now)])
    # contain-test (by host) opens anew; the brute-force case (by source) is still open and takes it
    assert evaluate(engine) == {"seen": 1, "opened": 1, "attached": 1}
    cases = _cases(store, "contain-test")
    assert len(cases) == 2 and first in cases
    assert not [e for e in timeline(engine, first) if e["what"] == "finding_attached"]


def test_a_dry_run_is_never_an_incident(engine, store, clock):
    """A dry run by hand walks to containment: it is marked, yet it is in no figure, raises no
    deadline alert and takes no finding of a real incident."""
    engine.w.deadline_rules = [Rule(name="notice", report="notice", hours=1)]
    dry = engine.open_case("contain-test", agency="pb-a", findings=[to_document(alert())], host=H1,
                           dry_run=True)
    engine.advance(dry)
    view = _close_contain_test(engine, dry)
    assert view["dry_run"] and view["contained_at"] and view["status"] == "closed"
    real = engine.open_case("contain-test", agency="pb-a", host=H2)
    engine.advance(real)
    figures = _figures(store)
    assert [c["id"] for c in figures["items"]] == [real] and figures["total"] == 1
    assert form05(figures)["total"]["total"] == 1
    m = case_metrics(store, HALF.start, HALF.end)
    assert [c["id"] for c in m["per_case"]] == [real] and m["per_playbook"][0]["cases"] == 1
    clock.advance(hours=2)
    raised = op.raise_missed_deadlines(engine)
    assert [cid for cid, _ in raised] == [real]
    html = engine.w.renderer(engine.show(dry), "notice", "en")
    assert "DRY RUN" in html and "DRY RUN" not in engine.w.renderer(engine.show(real), "notice", "en")


def test_an_open_dry_run_takes_no_finding(engine, store):
    dry = engine.open_case("contain-test", agency="pb-a", host=H1, dry_run=True,
                           trigger_key=f"pb-a|host:{H1}", by_hand=False)
    store.record([alert(host=H1)])
    evaluate(engine)
    assert len(_cases(store, "contain-test")) == 2
    assert not [e for e in timeline(engine, dry) if e["what"] == "finding_attached"]


@pytest.mark.parametrize(("field", "value", "accepts"), [
    ("help", "banana", "one of self, outside, foreign, national"),
    ("damage_vnd", "-5", "a whole number of đồng, 0 or more"),
    ("damage_vnd", "12.5", "a whole number of đồng, 0 or more"),
    ("damage_vnd", "lots", "a whole number of đồng, 0 or more"),
    ("conditions", "beyond_capacty", "one of beyond_capacity"),
    ("summary", "x" * 4001, "text of 1 to 4000 characters"),
    ("summary", "ok\x1b[2Jcleared", "text of 1 to 4000 characters without control characters"),
    ("measures", "y" * 501, "text of 1 to 500 characters"),
    ("supporters", "  ", "text of 1 to 500 characters"),
])
def test_case_fields_are_checked_when_set(engine, field, value, accepts):
    engine.w.deadline_rules = [Rule(name="notice", report="notice", hours=1, when="beyond_capacity")]
    cid = engine.open_case("contain-test", agency="pb-a", host=H1)
    with pytest.raises(UsageError, match=f"case field {field}: .* is not accepted; {field} takes {accepts}"):
        op.set_field(engine, cid, field, value, "an")
    assert engine.show(cid)["record"].get(field) in (None, "Containment test")


def test_good_field_values_are_stored_and_reach_the_figures(engine, store, clock):
    engine.w.deadline_rules = [Rule(name="notice", report="notice", hours=1, when="beyond_capacity")]
    cid = engine.open_case("contain-test", agency="pb-a", host=H1)
    for field, value in (("damage_vnd", "15000000"), ("help", "national"), ("conditions", "beyond_capacity"),
                         ("supporters", "VNCERT/CC")):
        clock.advance(minutes=1)      # the reports read a case's latest event
        op.set_field(engine, cid, field, value, "an")
    rec = engine.show(cid)["record"]
    assert rec["damage_vnd"] == 15_000_000 and rec["help"] == "national" and rec["conditions"] == ["beyond_capacity"]
    f = form05(_figures(store))
    assert f["total"]["national"] == 1 and f["total"]["damage_vnd"] == 15_000_000
    assert f["supporters"] == ["VNCERT/CC"]




def test_a_host_named_by_an_alert_and_addressed_by_a_check_is_one_host(engine, store):
    """The job passes the city's name → address map (host_of): the log alert that names the host
    joins the case its failed backup check opened."""
    store.record([_state("backup.failed", subject="job-1"),
                  alert("log.backup_failed", host=None, source=None, user=None, severity="medium")
                  .with_(host_name="ketoan-01")])
    known = {"ketoan-01": H1}
    counts = evaluate(engine, host_of=lambda agency, host: known.get(host, host))
    assert counts == {"seen": 2, "opened": 1, "attached": 1}
    assert [c["host"] for c in _cases(store, "backup-failed").values()] == [H1]


def test_a_critical_detection_is_one_ransomware_incident_not_two(tmp_path):
    """ransomware supersedes malware-detected: a critical detection matches both and opens the
    ransomware case only; a high one opens malware-detected only."""
    from playbooks import load_library
    from playbooks.triggers import matching_playbooks
    playbooks = [lp.playbook for lp in load_library().values()]
    critical = to_document(alert("log.av_detection", host=H1, source=None, user=None, severity="critical"))
    high = to_document(alert("log.av_detection", host=H1, source=None, user=None, severity="high"))
    assert [pb.id for pb in matching_playbooks(playbooks, critical, None)] == ["ransomware"]
    assert [pb.id for pb in matching_playbooks(playbooks, high, None)] == ["malware-detected"]


def test_supersedes_names_a_playbook_of_the_library(tmp_path):
    from playbooks import load_library
    from playbooks.loader import builtin_dir
    text = open(f"{builtin_dir()}/ransomware.yaml", encoding="utf-8").read()
    (tmp_path / "ransomware-2.yaml").write_text(
        text.replace("id: ransomware", "id: ransomware-2").replace("supersedes: [malware-detected]",
                                                                   "supersedes: [malware-detectd]"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_library(str(tmp_path))
    line = next(i for i, t in enumerate((tmp_path / "ransomware-2.yaml").read_text().splitlines(), 1)
                if t.startswith("supersedes:"))
    assert f"ransomware-2.yaml: line {line}" in str(err.value) and "supersedes" in str(err.value)
    assert "'malware-detectd' is not another playbook" in str(err.value)
