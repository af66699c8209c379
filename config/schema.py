"""The city's configuration: pydantic models. Unknown keys are rejected everywhere.

Cross-object rules (overlapping networks, dangling references, missing key files, secrets
written in YAML) live in :mod:`config.validate`; loading and error positions in :mod:`config.loader`.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
Zone = Literal["lan", "server", "dmz", "management"]
AgencyKind = Literal["city", "department", "district", "ward", "commune", "public_unit"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Contact(Strict):
    name: str
    role: str
    phone: str | None = None
    email: str | None = None


class Network(Strict):
    cidr: str
    zone: Zone
    sensor: str                                   # id of the sensor that reaches this network
    segment: Literal["local", "routed"] = "routed"  # local: ARP works from the sensor
    exclude: list[str] = []                       # addresses or CIDRs never to touch

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_network(v, strict=True))
        except ValueError as exc:
            raise ValueError(f"invalid CIDR {v!r}: {exc}") from None

    @field_validator("exclude")
    @classmethod
    def _excl(cls, v: list[str]) -> list[str]:
        out = []
        for item in v:
            try:
                out.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"invalid address or CIDR {item!r} in exclude") from None
        return out

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr)


class KnownHost(Strict):
    name: str
    ip: str
    mac: str | None = None
    role: Literal["workstation", "server", "network", "printer", "other"] = "workstation"
    os: Literal["linux", "windows", "network", "other"] = "linux"
    system: str | None = None                     # id of the information system it belongs to
    ssh: "SshAccess | None" = None                # how collectors reach it (None: agency default)
    collect: list[Literal["antivirus", "backup", "logs"]] = ["antivirus", "backup", "logs"]

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"invalid IP address {v!r}") from None


class SshAccess(Strict):
    user: str = "citysec"
    port: int = Field(22, ge=1, le=65535)
    key: str | None = None                        # credential id (credentials: section)
    jump: str | None = None                       # name or ip of a bastion host
    legacy_algorithms: bool = False               # allow ssh-rsa / old KEX for old gear
    windows: Literal["openssh", "winrm"] | None = None


class Agency(Strict):
    id: str = Field(pattern=SLUG)
    name: str                                     # in Vietnamese
    name_en: str | None = None
    kind: AgencyKind
    parent: str | None = None
    contacts: list[Contact] = []
    networks: list[Network]
    hosts: list[KnownHost] = []
    ssh: SshAccess = SshAccess()
    stale_after_days: int = Field(14, ge=1)       # registered host not seen → finding
    allow_intrusive: bool = False                 # NSE scripts beyond the safe default set
    policy: str | None = None                     # id of an exposure policy override
    sensor: str | None = None                     # default sensor (else each network's own)


class InfoSystem(Strict):
    id: str = Field(pattern=SLUG)
    name: str
    owner: str                                    # agency id
    operator: str                                 # agency id
    level: int = Field(ge=1, le=5)
    type: str
    hosts: list[str] = []                         # host names or ips of the owner's register
    plan_approved: str | None = None              # approval date of its security plan
    backup: str | None = None                     # id of a backup policy


class ServiceRule(Strict):
    """Allow or forbid services (catalogue ids, ``port/proto`` or service names) for a scope."""
    zones: list[Zone] = []                        # empty: every zone
    agencies: list[str] = []                      # empty: every agency
    kinds: list[AgencyKind] = []                  # empty: every kind of agency
    allow: list[str] = []
    forbid: list[str] = []
    reason: str | None = None


class AntivirusPolicy(Strict):
    max_signature_age_hours: int = Field(48, ge=1)
    require_daemon: bool = True
    require_updater: bool = True
    console_import: "ConsoleImport | None" = None


class ConsoleImport(Strict):
    path: str
    columns: dict[str, str]                       # our field → CSV column


class BackupPolicy(Strict):
    id: str = Field(pattern=SLUG)
    method: Literal["restic", "borg", "files", "command"]
    repository: str | None = None                 # restic/borg repository path on the host
    password_file: str | None = None              # on the host (never the password itself)
    glob: str | None = None                       # files: glob on the host
    min_size_bytes: int = 1
    command: list[str] | None = None              # command: argv printing JSON
    max_age_hours: int = Field(30, ge=1)
    isolated_copy: str | None = None              # second repository/glob that must be fresh too
    restore_test_days: int = Field(92, ge=1)      # a restore test at least quarterly
    log: str | None = None                        # backup job log on the host


class ScanWindow(Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = [
        "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    agencies: list[str] = []                      # empty: every agency


class Blackout(Strict):
    start: datetime
    end: datetime
    agencies: list[str] = []
    reason: str = ""


class BruteForce(Strict):
    failures: int = Field(5, ge=1)
    window_seconds: int = Field(300, ge=1)


class Policies(Strict):
    services: list[ServiceRule] = []
    antivirus: AntivirusPolicy = AntivirusPolicy()
    backups: list[BackupPolicy] = []
    scan_windows: list[ScanWindow] = []
    blackouts: list[Blackout] = []
    brute_force: BruteForce = BruteForce()
    top_ports: int = Field(100, ge=0, le=65535)
    host_timeout_seconds: int = Field(300, ge=5)
    discovery_rate_pps: int = Field(200, ge=1)    # per agency


class Credential(Strict):
    """A secret by reference only: a file path or an environment variable's name."""
    key_file: str | None = None
    env: str | None = None
    check_exists: bool = True                     # key_file must exist at load time


class Sensor(Strict):
    id: str = Field(pattern=SLUG)
    name: str
    agency: str                                   # where it sits (the SOC: so-tttt)
    address: str | None = None
    netns: str | None = None                      # the range: run its probes in this namespace


class Schedules(Strict):
    discovery: str = "every 6 hours"
    services: str = "every day at 01:00"
    antivirus: str = "every 4 hours"
    backup: str = "every day at 07:00"
    logs: str = "every 5 minutes"
    ship: str = "every 1 minute"
    reports: str = "every day at 06:00"
    timeout_seconds: dict[str, int] = {}
    workers: int = Field(4, ge=1, le=64)


class StoreConfig(Strict):
    path: str = "var/citysec.db"


class ElasticsearchConfig(Strict):
    hosts: list[str] = []                         # empty: no shipping
    namespace: str = Field("default", pattern=r"^[a-z0-9_]+$")
    ca_file: str | None = None
    api_key: str | None = None                    # credential id
    username: str | None = None
    password: str | None = None                   # credential id
    retention_days: int = Field(400, ge=1)
    batch_size: int = Field(2000, ge=1)
    timeout_seconds: int = Field(30, ge=1)


class ReportsConfig(Strict):
    out_dir: str = "var/reports"
    lang: Literal["vi", "en"] = "vi"
    weights: dict[str, float] = {
        "coverage": 0.25, "exposure": 0.25, "backups": 0.15, "time_to_fix": 0.1,
        "incidents": 0.15, "drills": 0.1}


class City(Strict):
    name: str
    version: int = 1
    profile: Literal["nd85", "nd331"] = "nd85"
    sensor: str | None = None                     # this instance's sensor id (CLI --sensor overrides)
    sensors: list[Sensor]
    agencies: list[Agency]
    systems: list[InfoSystem] = []
    policies: Policies = Policies()
    credentials: dict[str, Credential] = {}
    schedules: Schedules = Schedules()
    store: StoreConfig = StoreConfig()
    elasticsearch: ElasticsearchConfig = ElasticsearchConfig()
    reports: ReportsConfig = ReportsConfig()
    known_hosts: str = "var/known_hosts"          # citysec-managed SSH host keys

    def agency(self, agency_id: str) -> Agency:
        for a in self.agencies:
            if a.id == agency_id:
                return a
        raise KeyError(agency_id)


SECRET_KEY = re.compile(r"(^|_)(password|passwd|secret|token|private_key|api_key_value|community)$", re.I)

KnownHost.model_rebuild()
AntivirusPolicy.model_rebuild()
