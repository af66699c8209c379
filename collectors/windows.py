"""Windows antivirus: Security Center (workstations) and Defender (servers), over OpenSSH with
PowerShell or over WinRM (pywinrm). No Windows runs here: the parsers are tested with recorded
outputs under tests/fixtures/collectors/.

``AntiVirusProduct.productState`` is an undocumented bit field. Decoded from well-known samples
(e.g. 397568 = 0x061100 Defender on and current; 393472 = 0x060100 off; 397584 = 0x061110 on,
out of date): byte 2 is the scanner (0x10 bit set = on), byte 3 the signatures (0x00 current,
0x10 out of date). The raw value is kept in every finding.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from .antivirus import AvState

WSC_PS = ("Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | "
          "Select-Object displayName,productState,pathToSignedProductExe,timestamp | ConvertTo-Json -Compress")
MP_PS = ("Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,RealTimeProtectionEnabled,"
         "AntivirusSignatureLastUpdated,AntivirusSignatureAge,AntivirusSignatureVersion,AMProductVersion,"
         "AMRunningMode | ConvertTo-Json -Compress")


def powershell_command(script: str) -> str:
    """A command line for Windows OpenSSH: PowerShell with the script base64-encoded (UTF-16LE)."""
    enc = base64.b64encode(script.encode("utf-16-le")).decode()
    return f"powershell -NoProfile -NonInteractive -EncodedCommand {enc}"


def decode_product_state(value: int) -> dict[str, Any]:
    scanner = (value >> 8) & 0xFF
    signatures = value & 0xFF
    return {"raw": value, "hex": f"0x{value:06X}", "provider": (value >> 16) & 0xFF,
            "enabled": bool(scanner & 0x10), "up_to_date": signatures == 0x00}


def _as_list(data: Any) -> list[dict]:
    if data is None:
        return []
    return data if isinstance(data, list) else [data]


def parse_wsc(text: str) -> AvState:
    """``AntiVirusProduct`` as JSON. Several products: the one that is enabled wins (WSC keeps
    stale entries after an uninstall)."""
    text = text.strip()
    if not text:
        return AvState(source="wsc", installed=False, raw={"products": []})
    products = _as_list(json.loads(text))
    decoded = []
    for p in products:
        state = int(p.get("productState", 0))
        decoded.append({"name": p.get("displayName"), **decode_product_state(state)})
    if not decoded:
        return AvState(source="wsc", installed=False, raw={"products": []})
    best = sorted(decoded, key=lambda d: (d["enabled"], d["up_to_date"]), reverse=True)[0]
    return AvState(source="wsc", installed=True, product=best["name"], enabled=best["enabled"],
                   up_to_date=best["up_to_date"], updater=None,
                   raw={"products": decoded, "productState": best["raw"]})


def _ms_date(value: Any) -> datetime | None:
    """ConvertTo-Json dates: "/Date(1763000000000)/" (PowerShell 5) or ISO 8601 (PowerShell 7)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("value") or value.get("DateTime")
    s = str(value)
    if s.startswith("/Date("):
        ms = int(s[6:].split(")")[0].split("+")[0].split("-")[0])
        return datetime.fromtimestamp(ms / 1000, timezone.utc)
    ts = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def parse_mp_status(text: str) -> AvState:
    """``Get-MpComputerStatus`` as JSON (Windows Server: no Security Center)."""
    text = text.strip()
    if not text:
        return AvState(source="defender", installed=False)
    data = json.loads(text)
    if isinstance(data, list):
        data = data[0] if data else {}
    enabled = bool(data.get("AntivirusEnabled")) and bool(data.get("RealTimeProtectionEnabled"))
    return AvState(source="defender", installed=bool(data.get("AMServiceEnabled", True)),
                   product="Microsoft Defender", version=data.get("AMProductVersion"),
                   db_time=_ms_date(data.get("AntivirusSignatureLastUpdated")), enabled=enabled,
                   updater=None, raw={k: data.get(k) for k in ("AMServiceEnabled", "AntivirusEnabled",
                                                              "RealTimeProtectionEnabled", "AntivirusSignatureAge",
                                                              "AntivirusSignatureVersion", "AMRunningMode")})


def parse_windows(role: str, rc: int | None, stdout: str) -> AvState:
    """Workstations answer Security Center; servers Defender. A missing WMI class or cmdlet
    (rc != 0 with no JSON) means the product is not there."""
    if role == "server":
        return parse_mp_status(stdout) if rc == 0 else AvState(source="defender", installed=False,
                                                               raw={"error": stdout[-500:]})
    return parse_wsc(stdout) if rc == 0 else AvState(source="wsc", installed=None, raw={"error": stdout[-500:]})


def script_for(role: str) -> str:
    return MP_PS if role == "server" else WSC_PS


class WinRMRunner:
    """The same queries over WinRM (certificate authentication: keys, never passwords)."""

    def __init__(self, ip: str, cert_pem: str, key_pem: str, *, port: int = 5986, timeout: float = 30,
                 ca_file: str | None = None):
        import winrm  # pywinrm

        self.session = winrm.Session(
            f"https://{ip}:{port}/wsman", auth=(None, None), transport="certificate",
            cert_pem=cert_pem, cert_key_pem=key_pem, server_cert_validation="validate",
            ca_trust_path=ca_file or "legacy_requests", read_timeout_sec=timeout + 5,
            operation_timeout_sec=timeout)

    def run_ps(self, script: str) -> tuple[int, str, str]:
        r = self.session.run_ps(script)
        return r.status_code, r.std_out.decode("utf-8", "replace"), r.std_err.decode("utf-8", "replace")
