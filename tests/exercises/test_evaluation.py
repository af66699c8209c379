"""Drill evaluation: ratings, survey, corrective actions and their retests, the reports' feed.

Runs are built directly in a temporary store as the runner leaves them (a run row with the
scenario's YAML, its injects and expectations, its events), so no range is needed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from exercises import db
from exercises import evaluation as ev
from findings import Store
from findings.errors import UsageError
from findings.model import iso
from findings.query_sqlite import SqliteQuery
from reports import ranking
from reports.period import parse_period
from reports.summary import Org, period_figures
from tests.es_server import es_server  # noqa: F401  (fixture)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "exercises" / "eval-scenario.yaml"
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">"


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def tick(self, **kw) -> None:
        self.at += timedelta(**kw)


def scenario_text(**changes) -> str:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data.update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def make_run(store: Store, run_id: str, *, text: str | None = None, start: datetime = T0, speed: float = 10.0,
             detect_met: bool = True, case_met: bool = False, host_name: str = "tc-pc1") -> dict:
    """A completed accelerated run (speed 10: 1 real second = 10 scenario seconds) as the runner
    writes it: inject 1 (EICAR) detected after 90 s real or missed, inject 2 (deface) with its
    critical case expectation met or missed (a lapse), inject 3 rated by the evaluators, a pause."""
    db.ensure_tables(store)
    text = text or FIXTURE.read_text(encoding="utf-8")
    sc = yaml.safe_load(text)
    title = sc["title"] if isinstance(sc["title"], dict) else {"vi": sc["title"], "en": None}   # a stored old run: one
    run = {"id": run_id, "organizer": sc["organizer"], "title": title["vi"], "title_en": title["en"], "scenario_id": sc["id"]}
    s = lambda sec: start + timedelta(seconds=sec)
    stmts = [(("INSERT INTO exercise_runs (id, scenario_id, title, title_en, organizer, scenario_path, scenario_sha256,"
              " scenario_text, mode, speed, jobs, state, started_at, ended_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
              (run_id, sc["id"], title["vi"], title["en"], sc["organizer"], str(FIXTURE), "0" * 64, text, "accelerated", speed,
               "external", "completed", iso(start), iso(s(400))))]
    events = [db.event(run, "run_started", start, mode="accelerated", speed=speed)]
    sent = {1: s(1), 2: s(60), 3: s(120)}
    for n, at in sent.items():
        stmts.append(("INSERT INTO exercise_injects (run_id, number, state, sent_at, cleanup) VALUES (?,?,?,?,?)",
                      (run_id, n, "sent", iso(at), "done" if n < 3 else "none")))
    inj = {i["number"]: i for i in sc["msel"]}
    events += [db.event(run, "inject_sent", at, agency=inj[n]["to"][0], host=host_name if n == 1 else "198.18.22.10",
                        inject=n, method=inj[n]["method"], synopsis=inj[n]["synopsis"]["vi"], objective=inj[n]["objective"])
               for n, at in sent.items()]
    # inject 1: detection due 15 scenario minutes = 90 real seconds after sending
    due1, met1 = s(1 + 90), s(1 + 45)
    stmts.append((("INSERT INTO exercise_expectations (run_id, number, exp_id, kind, severity, state, due_at, met_at)"
                  " VALUES (?,?,?,?,?,?,?,?)"), (run_id, 1, "av-alert", "detect", "high",
                                               "met" if detect_met else "missed", iso(due1),
                                               iso(met1) if detect_met else None)))
    events.append(db.event(run, "expectation_met", met1, agency="so-tc", inject=1, expectation="av-alert",
                           kind="detect", seconds=45.0, scenario_seconds=450.0) if detect_met else
                  db.event(run, "expectation_missed", due1, agency="so-tc", severity="high", inject=1,
                           expectation="av-alert", kind="detect", description="Phần mềm diệt virus cảnh báo"))
    due2, met2 = s(60 + 120), s(60 + 100)
    stmts.append((("INSERT INTO exercise_expectations (run_id, number, exp_id, kind, severity, state, due_at, met_at)"
                  " VALUES (?,?,?,?,?,?,?,?)"), (run_id, 2, "case", "case_opened", "critical",
                                               "met" if case_met else "missed", iso(due2),
                                               iso(met2) if case_met else None)))
    if case_met:
        events.append(db.event(run, "expectation_met", met2, agency="so-tttt", inject=2, expectation="case",
                               kind="case_opened", seconds=100.0, scenario_seconds=1000.0))
    else:
        events.append(db.event(run, "expectation_missed", due2, agency="so-tttt", severity="critical", inject=2,
                               expectation="case", kind="case_opened",
                               description="Mở hồ sơ xử lý thay đổi giao diện"))
        msg = "critical expectation missed: inject #2 case: Mở hồ sơ xử lý thay đổi giao diện"
        stmts.append(("INSERT INTO exercise_lapses (run_id, key, at, message, notified) VALUES (?,?,?,?,?)",
                      (run_id, "expectation-2-case", iso(due2), msg, json.dumps(["console", "email"]))))
        events.append(db.event(run, "lapse", due2, severity="critical", message=f"drill {run_id}: {msg}",
                               lapse="expectation-2-case", notified=["console", "email"]))
    stmts.append((("INSERT INTO exercise_expectations (run_id, number, exp_id, kind, severity, state) VALUES"
                  " (?,?,?,?,?,?)"), (run_id, 3, "press", "evaluator", "high", "rated")))
    events += [db.event(run, "run_paused", s(200)), db.event(run, "run_resumed", s(260), seconds=60.0),
               db.event(run, "cleanup_done", s(300), agency="so-tc", inject=1, detail="verified"),
               db.event(run, "run_completed", s(400))]
    db.write(store, stmts, events)
    return run


@pytest.fixture
def clock():
    return Clock(T0 + timedelta(hours=2))


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "citysec.db", clock=clock)
    make_run(s, "eval-2026-a")
    return s


def rating_events(store, run_id):
    return [e for e in db.events_of(store, run_id) if e["citysec"]["exercise"]["action"] == "rated"]


# -- ratings -------------------------------------------------------------------------------------

def test_rate_every_agency_of_an_objective_then_rerate_one(store, clock):
    rows = ev.rate(store, "eval-2026-a", "detect", "s", evaluator="Trần Thị Lan", note="chậm báo cáo",
                   strengths=["phát hiện nhanh"], improvements=["báo cáo ban đầu trễ"])
    assert [(r["agency"], r["rating"]) for r in rows] == [("so-tttt", "S"), ("so-tc", "S")]
    clock.tick(minutes=5)
    ev.rate(store, "eval-2026", "detect", "P", agency="so-tc", evaluator="Trần Thị Lan", note="tốt")   # id prefix
    got = {(r["objective"], r["agency"]): r for r in ev.ratings(store, "eval-2026-a")}
    assert got[("detect", "so-tc")]["rating"] == "P" and got[("detect", "so-tc")]["note"] == "tốt"
    assert got[("detect", "so-tttt")]["rating"] == "S"
    assert got[("detect", "so-tttt")]["strengths"] == ["phát hiện nhanh"]
    evs = rating_events(store, "eval-2026-a")
    assert len(evs) == 3    # every rating has its event; the reports keep the latest of each key
    last = evs[-1]
    assert last["organization"]["id"] == "so-tc"
    assert last["citysec"]["exercise"].items() >= {"rating": "P", "objective": "detect", "note": "tốt",
                                                   "rating_key": "eval-2026-a/detect/so-tc"}.items()


def test_rerating_in_the_same_millisecond_is_still_the_later_event(store):
    ev.rate(store, "eval-2026-a", "respond", "U", evaluator="Lan", note="a")
    ev.rate(store, "eval-2026-a", "respond", "P", evaluator="Lan", note="b")      # the clock stands still
    evs = rating_events(store, "eval-2026-a")
    assert [e["citysec"]["exercise"]["rating"] for e in evs] == ["U", "P"]
    assert evs[0]["@timestamp"] < evs[1]["@timestamp"]


@pytest.mark.parametrize("args, kw, message", [
    (("eval-2026-a", "detect", "X"), {}, "rating 'X': expected one of P, S, M, U"),
    (("nope", "detect", "P"), {}, "no drill run with id 'nope'"),
    (("eval-2026-a", "recover", "P"), {}, "has no objective 'recover'; known: detect, respond"),
    (("eval-2026-a", "respond", "P"), {"agency": "so-tc"}, "objective 'respond' rates so-tttt, not 'so-tc'"),
])
def test_rate_refuses_what_is_wrong(store, args, kw, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        ev.rate(store, *args, evaluator="Lan", note="n", **kw)
    assert ev.ratings(store, "eval-2026-a") == []


# -- survey --------------------------------------------------------------------------------------

def test_survey_answers_replace_and_are_checked(store, clock):
    out = ev.survey(store, "eval-2026-a", "so-tc", ["4", "phối hợp tốt", "cần danh bạ"])
    assert out["answers"]["Điều gì làm tốt?"] == "phối hợp tốt"
    clock.tick(seconds=1)
    ev.survey(store, "eval-2026-a", "so-tc", ["5", "phối hợp tốt", "không"])
    rows = db.rows(store, "exercise_survey", "eval-2026-a", "question")
    assert [r["answer"] for r in rows] == ["5", "phối hợp tốt", "không"]
    assert [e["citysec"]["exercise"].get("participant") for e in db.events_of(store, "eval-2026-a")
            if e["citysec"]["exercise"]["action"] == "survey"] == ["so-tc", "so-tc"]
    with pytest.raises(UsageError, match="'ghost' is not a participant"):
        ev.survey(store, "eval-2026-a", "ghost", ["1", "2", "3"])
    with pytest.raises(UsageError, match="has 3 questions"):
        ev.survey(store, "eval-2026-a", "so-tc", ["1"])


# -- corrective actions --------------------------------------------------------------------------

def test_actions_add_close_reopen_and_list(store, clock):
    a1 = ev.add_action(store, "eval-2026-a", title="Cập nhật danh bạ khẩn cấp", agency="so-tc",
                       contact="Nguyễn Văn A, 0912000111", start="2026-11-21", due="2027-01-31", objective="detect")
    a2 = ev.add_action(store, "eval-2026-a", title="Diễn tập lại quy trình", agency="so-tttt", contact="Cường",
                       due="2027-03-01")
    assert (a1, a2) == ("CA-eval-2026-a-01", "CA-eval-2026-a-02")
    assert [a["id"] for a in ev.list_actions(store, open_only=True)] == [a1, a2]      # by due date
    assert [a["id"] for a in ev.list_actions(store, agency="so-tttt")] == [a2]
    with pytest.raises(UsageError, match="needs --evidence"):
        ev.close_action(store, a1, "  ", "lan")
    clock.tick(minutes=1)
    closed = ev.close_action(store, a1, "danh bạ v2 ban hành 05/12", "lan")
    assert closed["status"] == "closed" and closed["closed_by"] == "lan"
    assert [a["id"] for a in ev.list_actions(store, open_only=True)] == [a2]
    assert [a["id"] for a in ev.list_actions(store)] == [a1, a2]
    with pytest.raises(UsageError, match="already closed"):
        ev.close_action(store, a1, "again", "lan")
    ev.reopen_action(store, a1, "danh bạ chưa gửi các phường", "lan")
    assert ev.action_row(store, a1)["status"] == "open" and ev.action_row(store, a1)["evidence"] is None
    acts = [e["citysec"]["exercise"] | {"agency": e["organization"]["id"]} for e in db.events_of(store, "eval-2026-a")
            if e["citysec"]["exercise"].get("action_id") == a1]
    assert [(x["action"], x["action_status"]) for x in acts] == [
        ("action_opened", "open"), ("action_closed", "closed"), ("action_reopened", "open")]
    assert acts[0].items() >= {"agency": "so-tc", "action_title": "Cập nhật danh bạ khẩn cấp",
                               "action_due": "2027-01-31", "objective": "detect"}.items()


@pytest.mark.parametrize("kw, message", [
    ({"agency": "so-yt"}, "'so-yt' is neither a participant"),
    ({"due": "2026-11-01", "start": "2026-11-21"}, "--due 2026-11-01 is not after the start 2026-11-21"),
    ({"due": "31/01/2027"}, "--due '31/01/2027': give a date as YYYY-MM-DD"),
    ({"objective": "nope"}, "has no objective 'nope'"),
    ({"contact": ""}, "needs a contact"),
])
def test_add_action_refuses_what_is_wrong(store, kw, message):
    args = {"title": "t", "agency": "so-tc", "contact": "c", "due": "2027-01-31"} | kw
    with pytest.raises(UsageError, match=message):
        ev.add_action(store, "eval-2026-a", **args)
    assert ev.list_actions(store) == []


def test_unknown_action_ids_are_usage_errors(store):
    for call in (lambda: ev.close_action(store, "CA-x-01", "e", "b"), lambda: ev.reopen_action(store, "CA-x-01", "r")):
        with pytest.raises(UsageError, match="no corrective action 'CA-x-01'"):
            call()


# -- retests -------------------------------------------------------------------------------------

@pytest.fixture
def with_action(store, clock):
    aid = ev.add_action(store, "eval-2026-a", title="Rút ngắn thời gian mở hồ sơ", agency="so-tttt", contact="Cường",
                        due="2027-06-30", objective="respond")
    aid2 = ev.add_action(store, "eval-2026-a", title="Giám sát máy trạm", agency="so-tc", contact="A",
                         due="2027-06-30", objective="detect")
    clock.tick(days=30)
    return aid, aid2


def test_a_retest_closes_an_action_when_its_objective_is_met_and_rated_P(store, clock, with_action):
    aid, _ = with_action
    text = scenario_text(retests=[aid, "CA-unknown-07"])
    make_run(store, "eval-2027-b", text=text, start=clock() - timedelta(hours=1), case_met=True)
    out = ev.apply_retests(store, "eval-2027-b")        # completed, not yet rated: left as it is
    assert out["closed"] == [] and out["unchanged"] == [aid] and ev.action_row(store, aid)["status"] == "open"
    assert any("CA-unknown-07" in w for w in out["warnings"])
    ev.rate(store, "eval-2027-b", "respond", "P", evaluator="Lan", note="kịp thời")
    clock.tick(seconds=1)
    out = ev.apply_retests(store, "eval-2027-b")
    a = ev.action_row(store, aid)
    assert out["closed"] == [aid] and a["status"] == "closed" and a["retest_run"] == "eval-2027-b"
    assert a["evidence"].startswith("retested in drill eval-2027-b: 1 of 1 expectations met; rated so-tttt P")
    assert ev.apply_retests(store, "eval-2027-b")["closed"] == []     # idempotent
    warnings = [e for e in db.events_of(store, "eval-2027-b") if e["citysec"]["exercise"]["action"] == "retest_warning"]
    assert warnings and "CA-unknown-07" in warnings[0]["citysec"]["exercise"]["warning"]


def test_a_retest_reopens_an_action_when_an_expectation_is_missed(store, clock, with_action):
    aid, aid2 = with_action
    ev.close_action(store, aid, "quy trình mới", "lan")
    clock.tick(days=1)
    make_run(store, "eval-2027-c", text=scenario_text(retests=[aid, aid2]), start=clock() - timedelta(hours=1),
             case_met=False, detect_met=True)
    ev.rate(store, "eval-2027-c", "respond", "P", evaluator="Lan", note="ok")
    ev.rate(store, "eval-2027-c", "detect", "M", agency="so-tc", evaluator="Lan", note="chậm")
    clock.tick(seconds=1)
    out = ev.apply_retests(store, "eval-2027-c")
    assert sorted(out["reopened"]) == sorted([aid, aid2])
    a = ev.action_row(store, aid)
    assert a["status"] == "open" and a["retest_run"] == "eval-2027-c" and a["closed_at"] is None
    reasons = [e["citysec"]["exercise"]["note"] for e in db.events_of(store, "eval-2026-a")
               if e["citysec"]["exercise"].get("action_id") == aid2 and e["citysec"]["exercise"]["action"] == "action_reopened"]
    assert reasons == ["retested in drill eval-2027-c: rated so-tc M"]


# -- the reports' feed -----------------------------------------------------------------------------

ORGS = [Org("so-tttt", "Sở Thông tin và Truyền thông"), Org("so-tc", "Sở Tài chính")]
DRILLS_ONLY = {"coverage": 0.0, "exposure": 0.0, "backups": 0.0, "time_to_fix": 0.0, "incidents": 0.0, "drills": 1.0}


def _drills(store):
    figs = period_figures(SqliteQuery(store), parse_period("2026-H2"), ORGS, compare=False)
    comp = {aid: ranking.components(fig)["drills"] for aid, fig in figs["agencies"].items()}
    return figs, comp


def test_the_ranking_drills_component_follows_the_latest_rating(store, clock):
    ev.rate(store, "eval-2026-a", "respond", "U", evaluator="Lan", note="không mở được hồ sơ")
    figs, comp = _drills(store)
    assert comp["so-tttt"] == 0.0 and comp["so-tc"] is None
    assert figs["agencies"]["so-tttt"]["drills"]["ratings"] == {"P": 0, "S": 0, "M": 0, "U": 1}
    clock.tick(minutes=10)
    ev.rate(store, "eval-2026-a", "respond", "P", evaluator="Lan", note="đã khắc phục khi chấm lại")
    figs, comp = _drills(store)
    assert comp["so-tttt"] == 100.0                     # the re-rating replaced the U, not averaged with it
    assert figs["city"]["drills"]["ratings"] == {"P": 1, "S": 0, "M": 0, "U": 0}
    assert figs["city"]["drills"]["exercises"] == ["eval-2026-a"]
    rank = ranking.rank([("2026-H2", figs["agencies"])], DRILLS_ONLY)["ranking"]
    # so-tc was not rated: with drills the only weighted component it has no data, hence no score (last)
    assert [(r["agency"], r["score"]) for r in rank] == [("so-tttt", 100.0), ("so-tc", None)]


def test_open_actions_reach_the_periodic_figures(store, clock):
    aid = ev.add_action(store, "eval-2026-a", title="Danh bạ", agency="so-tc", contact="A", due="2027-01-31")
    figs, _ = _drills(store)
    assert [a["id"] for a in figs["agencies"]["so-tc"]["drills"]["open_actions"]] == [aid]
    clock.tick(minutes=1)
    ev.close_action(store, aid, "ban hành", "lan")
    figs, _ = _drills(store)
    assert figs["agencies"]["so-tc"]["drills"]["open_actions"] == []


@pytest.mark.es
def test_both_back_ends_count_the_latest_rating(tmp_path, clock, es_server):
    """The same store read through SQLite and Elasticsearch (noida-db, loaded by the real shipper)
    gives the same drill figures: re-ratings replace, an older rating event without a key counts."""
    from elasticsearch import Elasticsearch

    from findings import Finding
    from findings.elastic.ship import Shipper
    from findings.elastic.query import ElasticQuery
    store = Store(tmp_path / "es.db", clock=clock)
    make_run(store, "eval-2026-a")
    ev.rate(store, "eval-2026-a", "respond", "U", evaluator="Lan", note="u")
    ev.rate(store, "eval-2026-a", "detect", "M", evaluator="Lan", note="m")
    clock.tick(minutes=1)
    ev.rate(store, "eval-2026-a", "respond", "P", evaluator="Lan", note="p")
    ev.rate(store, "eval-2026-a", "detect", "S", agency="so-tc", evaluator="Lan", note="s")
    store.record([Finding(check="exercise.rating", agency="so-tc", kind="event", dataset="citysec.exercise",
                          timestamp=T0, subject="old", details={"id": "old-drill", "rating": "U"})])
    client = Elasticsearch(es_server.url, request_timeout=60)
    result = Shipper(client, store, namespace="evaltest", where="test", settle_seconds=0).run()
    assert result.dead_letters == 0 and result.remaining == 0
    client.indices.refresh(index="logs-citysec.*-evaltest")
    figs = {q.name: period_figures(q, parse_period("2026-H2"), ORGS, compare=False)
            for q in (SqliteQuery(store), ElasticQuery(client, "evaltest"))}
    assert figs["sqlite"]["agencies"]["so-tttt"]["drills"]["ratings"] == {"P": 1, "S": 0, "M": 1, "U": 0}
    assert figs["sqlite"]["agencies"]["so-tc"]["drills"]["ratings"] == {"P": 0, "S": 1, "M": 0, "U": 1}
    assert figs["sqlite"]["city"]["drills"]["exercises"] == ["eval-2026-a", "old-drill"]
    for aid in ("so-tttt", "so-tc"):
        assert figs["sqlite"]["agencies"][aid]["drills"] == figs["elasticsearch"]["agencies"][aid]["drills"], aid
    assert figs["sqlite"]["city"]["drills"] == figs["elasticsearch"]["city"]["drills"]
