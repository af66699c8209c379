"""The words and templates of notification digests, Vietnamese (default) and English.

Templates run in a Jinja2 SandboxedEnvironment with StrictUndefined: the items hold text from
the network (messages, banners). The HTML part is autoescaped; the plain-text part is text/plain
and holds no markup to escape.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader
from jinja2.sandbox import SandboxedEnvironment

from findings.support.templates import environment

WORDS: dict[str, tuple[str, str]] = {
    "subject": ("[citysec] {agency}: {n} thay đổi cần chú ý", "[citysec] {agency}: {n} changes to look at"),
    "intro": ("Các thay đổi về an toàn thông tin của {agency} trong chu kỳ {cycle}:",
              "Security changes of {agency} in cycle {cycle}:"),
    "new": ("Phát hiện mới", "New finding"), "reopened": ("Mở lại", "Reopened"),
    "severity_up": ("Mức độ tăng", "Severity rose"), "expired": ("Hết hạn chấp nhận/ghi nhận", "Triage expired"),
    "triage_ended": ("Chấm dứt chấp nhận/ghi nhận (đối tượng thay đổi)", "Triage ended (what it covered changed)"),
    "overdue": ("Quá hạn khắc phục", "Remediation overdue"),
    "critical": ("nghiêm trọng", "critical"), "high": ("cao", "high"), "medium": ("trung bình", "medium"),
    "low": ("thấp", "low"), "info": ("thông tin", "info"),
    "host": ("Địa chỉ", "Address"), "port": ("Cổng", "Port"), "check": ("Kiểm tra", "Check"),
    "severity": ("Mức độ", "Severity"), "what": ("Thay đổi", "Change"), "detail": ("Chi tiết", "Detail"),
    "footer": ("Xem chi tiết: citysec findings show <mã>. Thư tự động từ citysec, không trả lời.",
               "Details: citysec findings show <id>. An automatic message from citysec; do not reply."),
}

TEXT = """{{ intro }}

{% for i in items %}- [{{ word(i.kind) }}] {{ word(i.severity) }} · {{ i.check }} · {{ i.host or '-' }}{% if i.get('port') %}:{{ i.get('port') }}{% endif %} · {{ i.fingerprint[:12] }}
  {{ i.message }}{% if i.get('reason') %} ({{ i.get('reason') }}){% endif %}
{% endfor %}
{{ word('footer') }}
"""

HTML = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body><p>{{ intro }}</p><table border="1" cellpadding="4" cellspacing="0">
<tr><th>{{ word('what') }}</th><th>{{ word('severity') }}</th><th>{{ word('check') }}</th><th>{{ word('host') }}</th>
<th>{{ word('port') }}</th><th>{{ word('detail') }}</th></tr>
{% for i in items %}<tr><td>{{ word(i.kind) }}</td><td>{{ word(i.severity) }}</td><td>{{ i.check }}</td>
<td>{{ i.host or '-' }}</td><td>{{ i.get('port') or '' }}</td><td>{{ i.message }}{% if i.get('reason') %} ({{ i.get('reason') }}){% endif %}</td></tr>
{% endfor %}</table><p>{{ word('footer') }}</p></body></html>
"""


def word(key: str, lang: str, **kw: Any) -> str:
    vi, en = WORDS.get(key, (key, key))
    return (en if lang == "en" else vi).format(**kw)


def _env(autoescape: bool) -> SandboxedEnvironment:
    return environment(DictLoader({"text": TEXT, "html": HTML}), autoescape=autoescape)


def render(items: list[dict[str, Any]], agency_name: str, cycle: str, lang: str) -> dict[str, str]:
    """Subject, plain text and HTML of one digest."""
    ctx = {"items": items, "lang": lang, "intro": word("intro", lang, agency=agency_name, cycle=cycle),
           "subject": word("subject", lang, agency=agency_name, n=len(items)),
           "word": lambda k: word(k, lang)}
    return {"subject": ctx["subject"], "text": _env(False).get_template("text").render(ctx),
            "html": _env(True).get_template("html").render(ctx)}


def one_line(items: list[dict[str, Any]], agency: str, lang: str) -> str:
    """The digest as one line (syslog)."""
    parts = [f"{word(i['kind'], lang)}: {i['check']} {i.get('host') or '-'}"
             f"{':' + str(i['port']) if i.get('port') else ''} ({word(i['severity'], lang)})" for i in items]
    return f"{agency}: " + "; ".join(parts)
