"""The exposure judge: each open port → the catalogue entry, the rule that decided, the severity."""

from __future__ import annotations

import pytest

from scanners.policy import PortObservation, classify, exposure_finding, judge


def obs(host, port, service=None, transport="tcp", **kw):
    return PortObservation(host=host, port=port, transport=transport, service=service,
                           method="probed" if service else "table", **kw)


@pytest.mark.parametrize("o, agency, check, verdict, severity, decided_by", [
    (obs("198.19.17.11", 23, "telnet"), "ward", "exposure.telnet", "fail", "high", "policies.services[0]"),
    (obs("198.19.17.11", 445, "microsoft-ds"), "ward", "exposure.smb", "fail", "medium", "policies.services[1]"),
    (obs("198.19.19.10", 80, "http", title="d-web"), "dept", "exposure.http", "pass", "info", "policies.services[2]"),
    (obs("198.19.19.10", 443, "http", tunnel="ssl"), "dept", "exposure.https", "pass", "info", "policies.services[2]"),
    (obs("198.19.19.10", 9200, "http", product="Elasticsearch REST API"), "dept", "exposure.elasticsearch",
     "fail", "high", "policies.services[2]"),
    (obs("198.19.19.10", 2375, "docker"), "dept", "exposure.docker-api", "fail", "critical", "policies.services[0]"),
    (obs("198.19.18.10", 5432, "postgresql"), "dept", "exposure.postgresql", "pass", "info", "policies.services[3]"),
    (obs("198.19.18.10", 6379, "redis"), "dept", "exposure.redis", "fail", "high", "policies.services[3]"),
    (obs("198.19.16.20", 161, "snmp", "udp", snmp_communities=("public",)), "soc", "exposure.snmp-public",
     "fail", "high", "policies.services[0]"),
    (obs("198.19.16.21", 161, "snmp", "udp"), "soc", "exposure.snmp", "pass", "info", "policies.services[4]"),
    (obs("198.19.17.12", 8080, "http", title="Router Admin - Login"), "ward", "exposure.http-admin",
     "fail", "high", "policies.services[1]"),
    (obs("198.19.19.10", 8080, "http", admin_paths=("/admin/",)), "dept", "exposure.http-admin",
     "fail", "high", "policies.services[2]"),
    (obs("198.19.17.11", 22, "ssh"), "ward", "exposure.ssh", "pass", "info", "catalogue:ssh"),
    (obs("198.19.18.10", 3306, None), "dept", "exposure.mysql", "pass", "info", "policies.services[3]"),
    (obs("198.19.17.11", 9999, "abyss"), "ward", "exposure.unlisted", "pass", "info", "catalogue:unlisted"),
])
def test_each_port_is_judged_by_the_rule_that_names_it(cat, agencies, policy, o, agency, check, verdict,
                                                        severity, decided_by):
    d = judge(o, agencies[agency], policy.rules, cat)
    f = exposure_finding(o, agencies[agency], d, cat, run_id="r1")
    assert (f.check, f.verdict, f.severity, f.details["decided_by"]) == (check, verdict, severity, decided_by)
    assert f.remediation["vi"] and f.remediation["en"] and f.controls
    assert decided_by in f.reason


def test_catalogue_default_decides_when_no_rule_names_the_service(cat, agencies):
    d = judge(obs("198.19.17.11", 23, "telnet"), agencies["ward"], (), cat)
    assert (d.verdict, d.decided_by) == ("fail", "catalogue:telnet")
    assert "default is forbid" in d.reason
    d = judge(obs("198.19.19.10", 443, "http", tunnel="ssl"), agencies["dept"], (), cat)
    assert (d.verdict, d.decided_by) == ("pass", "catalogue:https")


def test_a_rule_naming_the_port_decides_an_unlisted_service(cat, agencies, policy):
    from dataclasses import replace
    rules = (replace(policy.rules[0], index=0, forbid=frozenset({"9999/tcp"}), reason="odd port"),)
    d = judge(obs("198.19.17.11", 9999, "abyss"), agencies["ward"], rules, cat)
    assert (d.check, d.verdict, d.severity) == ("exposure.unlisted", "fail", "medium")
    assert "forbids 9999/tcp (odd port)" in d.reason


def test_nmap_name_beats_the_usual_port(cat):
    assert classify(obs("198.19.17.11", 80, "ssh"), cat).id == "ssh"
    assert classify(obs("198.19.17.11", 23, None), cat).id == "telnet"     # not probed: the port decides
    assert classify(obs("198.19.17.11", 8080, "http"), cat).id == "http"   # no admin evidence
    assert classify(obs("198.19.17.11", 8443, "http", tunnel="ssl", title="Login"), cat).id == "https"


def test_the_most_specific_name_in_a_rule_wins(cat, agencies, policy):
    # the DMZ rule allows http and forbids http-admin: an admin page is judged as http-admin
    d = judge(obs("198.19.19.10", 80, "http", title="phpMyAdmin"), agencies["dept"], policy.rules, cat)
    assert (d.check, d.verdict) == ("exposure.http-admin", "fail")
