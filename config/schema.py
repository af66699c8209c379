"""The city's configuration: pydantic models. Unknown keys are rejected everywhere.

Cross-object rules (overlapping networks, dangling references, missing key files, secrets
written in YAML) live in :mod:`config.validate`; loading and error positions in :mod:`config.loader`.
The descriptions below are the published JSON Schema's (``config/citysec.schema.json``) and
docs/configuration.md's.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Zone = Literal["lan", "server", "dmz", "management"]
AgencyKind = Literal["city", "department", "district", "ward", "commune", "public_unit"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _ip_network(value: str, strict: bool) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=strict))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid CIDR {value!r}: {exc}") from None


class Contact(Strict):
    """A person to call about the agency's systems."""
    name: str
    role: str
    role_en: str | None = Field(None, description="The role in English (English documents); the role when absent.")
    phone: str | None = None
    email: str | None = None
    lang: Literal["vi", "en"] = Field("vi", description="Language of the notifications this person receives.")


class Network(Strict):
    """One network of an agency: what citysec may scan, and which sensor reaches it."""
    cidr: str = Field(description="The network, e.g. 198.18.10.0/24 (host bits must be zero).")
    zone: Zone = Field(description="lan (offices), server, dmz (published) or management.")
    sensor: str = Field(description="Id of the sensor that reaches this network (sensors:).")
    segment: Literal["local", "routed"] = Field(
        "routed", description="local: on the sensor's own segment (ARP discovery works); routed: IP probes.")
    exclude: list[str] = Field([], description="Addresses or CIDRs inside the network never to touch.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return _ip_network(v, strict=True)

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


class SshAccess(Strict):
    """How the collectors log in to a host (agency default, or per host)."""
    user: str = Field("citysec", description="Login name on the host.")
    port: int = Field(22, ge=1, le=65535)
    key: str | None = Field(None, description="Credential id (credentials:) of the private key.")
    jump: str | None = Field(None, description="Name or address of a registered bastion host.")
    legacy_algorithms: bool = Field(False, description="Allow ssh-rsa and old key exchange for old gear.")
    windows: Literal["openssh", "winrm"] | None = Field(None, description="Windows hosts: how to reach them.")


class KnownHost(Strict):
    """A host in an agency's register. A host found on the network but not here is 'unknown'."""
    name: str
    ip: str
    mac: str | None = None
    role: Literal["workstation", "server", "network", "printer", "other"] = "workstation"
    os: Literal["linux", "windows", "network", "other"] = "linux"
    system: str | None = Field(None, description="Id of the information system it belongs to (systems:).")
    ssh: SshAccess | None = Field(None, description="How collectors reach it (default: the agency's ssh).")
    collect: list[Literal["antivirus", "backup", "logs"]] = Field(
        ["antivirus", "backup", "logs"], description="What the collectors gather from it.")

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"invalid IP address {v!r}") from None


class Agency(Strict):
    """A state agency on the city's dedicated data network."""
    id: str = Field(pattern=SLUG, description="A slug: lower-case letters, digits and '-'.")
    name: str = Field(description="The name in Vietnamese.")
    name_en: str | None = None
    kind: AgencyKind
    parent: str | None = Field(None, description="Id of the agency above it (a ward's district).")
    contacts: list[Contact] = []
    networks: list[Network] = Field(description="At least one network.")
    hosts: list[KnownHost] = Field([], description="The register of known hosts.")
    ssh: SshAccess = SshAccess()
    stale_after_days: int = Field(14, ge=1, description="A registered host not seen this long → a finding.")
    allow_intrusive: bool = Field(False, description="Allow NSE scripts beyond the safe default set.")
    policy: str | None = Field(None, description="Id of an exposure policy override.")
    sensor: str | None = Field(None, description="Default sensor (else each network's own).")


class InfoSystem(Strict):
    """An information system of the register (Decree 85 levels 1–5)."""
    id: str = Field(pattern=SLUG)
    name: str
    name_en: str | None = Field(None, description="The name in English (English documents); the name when absent.")
    owner: str = Field(description="Agency id of the owner.")
    operator: str = Field(description="Agency id of the operator.")
    level: int = Field(ge=1, le=5, description="Security level 1–5 (Decree 85).")
    type: str
    hosts: list[str] = Field([], description="Names or addresses of hosts in the owner's register.")
    plan_approved: str | None = Field(None, description="Approval date of its security plan.")
    backup: str | None = Field(None, description="Id of a backup policy (policies.backups).")


class ServiceRule(Strict):
    """Allow or forbid services (catalogue ids, ``port/proto`` or service names) for a scope."""
    zones: list[Zone] = Field([], description="Empty: every zone.")
    agencies: list[str] = Field([], description="Empty: every agency.")
    kinds: list[AgencyKind] = Field([], description="Empty: every kind of agency.")
    allow: list[str] = []
    forbid: list[str] = []
    reason: str | None = None


class ConsoleImport(Strict):
    """A CSV export of a central antivirus console."""
    path: str
    columns: dict[str, str] = Field(description="Our field → the CSV column holding it.")


class AntivirusPolicy(Strict):
    max_signature_age_hours: int = Field(48, ge=1)
    require_daemon: bool = True
    require_updater: bool = True
    console_import: ConsoleImport | None = None


class BackupPolicy(Strict):
    """How to verify one kind of backup on a host."""
    id: str = Field(pattern=SLUG)
    method: Literal["restic", "borg", "files", "command"]
    repository: str | None = Field(None, description="restic/borg: the repository path on the host.")
    password_file: str | None = Field(None, description="On the host (never the password itself).")
    glob: str | None = Field(None, description="files: a glob on the host.")
    min_size_bytes: int = 1
    command: list[str] | None = Field(None, description="command: an argv printing JSON.")
    max_age_hours: int = Field(30, ge=1, description="The newest backup must be younger.")
    isolated_copy: str | None = Field(None, description="A second repository or glob that must be fresh too.")
    restore_test_days: int = Field(92, ge=1, description="A restore test at least this often.")
    log: str | None = Field(None, description="The backup job's log on the host.")


def _time_of_day(v: Any) -> Any:
    if isinstance(v, int):  # YAML 1.1 reads an unquoted 01:00 as 60 (base 60)
        raise ValueError("write times of day in quotes, e.g. '10:30' (unquoted YAML reads 10:30 as a number)")  # noqa: TRY004 (pydantic wants ValueError)
    return v


class ScanWindow(Strict):
    """When scans may run (local time of the sensor). No window: any time."""
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = [
        "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: time = time(0, 0)
    end: time = time(23, 59, 59)
    agencies: list[str] = Field([], description="Empty: every agency.")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _times(cls, v: Any) -> Any:
        return _time_of_day(v)


class Blackout(Strict):
    """A period without scans (e.g. an election day); a time without zone is local time."""
    start: datetime
    end: datetime
    agencies: list[str] = Field([], description="Empty: every agency.")
    reason: str = ""


class BruteForce(Strict):
    """Failed logins from one source above this count within the window → an alert."""
    failures: int = Field(5, ge=1)
    window_seconds: int = Field(300, ge=1)


class Policies(Strict):
    services: list[ServiceRule] = Field([], description="Exposure rules, applied in order.")
    antivirus: AntivirusPolicy = AntivirusPolicy()
    backups: list[BackupPolicy] = []
    scan_windows: list[ScanWindow] = []
    blackouts: list[Blackout] = []
    brute_force: BruteForce = BruteForce()
    top_ports: int = Field(100, ge=0, le=65535, description="nmap --top-ports of the service scan.")
    host_timeout_seconds: int = Field(300, ge=5, description="nmap --host-timeout.")
    version_intensity: int = Field(7, ge=0, le=9, description="nmap --version-intensity of -sV (7 is nmap's default).")
    discovery_rate_pps: int = Field(200, ge=1, description="Discovery probes per second, per agency.")
    sweep_rate_pps: int = Field(5000, ge=1, description="The full TCP sweep's (portsweep) SYN probes per second"
                                                        " of a sensor, so of any agency too (retransmissions included).")


class Credential(Strict):
    """A secret by reference only: a file path or an environment variable's name."""
    key_file: str | None = Field(None, description="Path of the secret's file (relative to the config file).")
    env: str | None = Field(None, description="Name of the environment variable holding the secret.")
    check_exists: bool = Field(True, description="key_file must exist when the configuration is loaded.")

    @field_validator("env")
    @classmethod
    def _env(cls, v: str | None) -> str | None:
        if v is not None and not ENV_NAME.match(v):
            raise ValueError("env must be the NAME of an environment variable (letters, digits, _),"
                             " not the secret")
        return v


class Sensor(Strict):
    """A machine that runs citysec's probes (the city SOC, or a sensor at a remote site)."""
    id: str = Field(pattern=SLUG)
    name: str
    agency: str = Field(description="Agency id where it sits (the SOC: so-tttt).")
    address: str | None = None
    netns: str | None = Field(None, description="The range only: run its probes in this network namespace.")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"invalid IP address {v!r}") from None


class Schedules(Strict):
    """When the scheduler runs each job: 'every N minutes|hours|days', 'every day at HH:MM'."""
    discovery: str = "every 6 hours"
    services: str = "every day at 01:00"
    portsweep: str = "every saturday at 01:00"
    antivirus: str = "every 4 hours"
    backup: str = "every day at 07:00"
    logs: str = "every 5 minutes"
    cases: str = "every 5 minutes"
    ship: str = "every 1 minute"
    reports: str = "every day at 06:00"
    triage: str = "every 5 minutes"
    timeout_seconds: dict[str, int] = Field({}, description="Job name → its time limit.")
    workers: int = Field(4, ge=1, le=64, description="Jobs run at once.")


class StoreConfig(Strict):
    path: str = Field("var/citysec.db", description="The SQLite findings store (var/… is relative to the"
                                                    " working directory).")


class ElasticsearchConfig(Strict):
    """Where the outbox is shipped. No hosts: no shipping (the store alone)."""
    hosts: list[str] = Field([], description="URLs, e.g. https://es1.soc.haiphong.gov.vn:9200.")
    namespace: str = Field("default", pattern=r"^[a-z0-9_]+$", description="Data stream namespace.")
    ca_file: str | None = Field(None, description="CA certificate file to verify the cluster's TLS.")
    api_key: str | None = Field(None, description="Credential id of the API key.")
    username: str | None = None
    password: str | None = Field(None, description="Credential id of the password.")
    retention_days: int = Field(400, ge=1)
    batch_size: int = Field(2000, ge=1)
    timeout_seconds: int = Field(30, ge=1)


class ReportsConfig(Strict):
    out_dir: str = "var/reports"
    lang: Literal["vi", "en"] = "vi"
    timezone: str = Field("Asia/Ho_Chi_Minh", description="The city's time zone: dates and times in documents.")
    weights: dict[str, float] = Field(
        {"coverage": 0.25, "exposure": 0.25, "backups": 0.15, "time_to_fix": 0.1,
         "incidents": 0.15, "drills": 0.1}, description="Weights of the readiness ranking.")


def _include_in_schema(schema: dict[str, Any]) -> None:
    schema["properties"]["include"] = {
        "description": "Other YAML files merged into this one (relative to it).",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class SmtpRelay(Strict):
    """Incident notifications by email (playbooks' notify_email, digests, drills). The relay's TLS
    certificate is verified against the system CA store, or ``ca_file``."""
    host: str
    port: int = Field(25, ge=1, le=65535)
    sender: str = "citysec@localhost"
    recipients: list[str] = []
    security: Literal["starttls", "tls", "plain"] = Field(
        "starttls", description="starttls: upgrade with STARTTLS (refused if the relay cannot); tls: TLS from the"
                                " start (port 465); plain: no encryption (only when set, with a warning).")
    ca_file: str | None = Field(None, description="CA certificate file that verifies the relay's certificate"
                                                  " (default: the system CA store).")


class SyslogTarget(Strict):
    """A syslog receiver of the notification digests (RFC 5424; TCP with octet counting)."""
    host: str
    port: int = Field(514, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"


class Digests(Strict):
    """What the triage job notifies (docs/triage.md): new, reopened, risen, overdue findings at or
    above ``min_severity``, and every triage decision that expired or ended."""
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "high"
    email: bool = Field(True, description="Email the agency's contacts and notify.smtp.recipients (the city team).")
    webhooks: list[str] = Field([], description="Names of notify.webhooks that receive each digest as JSON.")
    syslog: list[SyslogTarget] = []
    lang: Literal["vi", "en"] = Field("vi", description="Language of webhook and syslog digests.")


class Notify(Strict):
    smtp: SmtpRelay | None = None
    webhooks: dict[str, str] = {}                 # name → URL (playbooks' notify_webhook)
    digests: Digests = Digests()


class ApprovedTarget(Strict):
    """A drill target outside the range, approved in writing (the runner refuses any other)."""
    address: str = Field(description="The IP address approved for drill injects.")
    approved_by: str = Field(min_length=1, description="Who approved it (name, position).")
    reference: str = Field(min_length=1, description="The approval document (number, date).")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"invalid IP address {v!r}") from None


class ExercisesConfig(Strict):
    """Drills (citysec exercise): where runs keep their files, targets approved beyond the range."""
    out_dir: str = Field("var/exercises", description="Run folders: team files, after-action reports.")
    approved_targets: list[ApprovedTarget] = []
    lapse_webhooks: list[str] | None = Field(
        None, description="Names of notify.webhooks told of a critical lapse (default: all of them).")


class City(Strict):
    """The city: its agencies, sensors, register of systems, policies and where data goes."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              json_schema_extra=_include_in_schema, title="citysec city configuration")

    name: str
    version: int = Field(1, description="Version of this file's format.")
    profile: Literal["nd85", "nd331"] = Field(
        "nd85", description="Regulatory profile (config/profiles/<profile>.yaml).")
    sensor: str | None = Field(None, description="This instance's sensor id (--sensor overrides).")
    sensors: list[Sensor]
    agencies: list[Agency]
    systems: list[InfoSystem] = []
    policies: Policies = Policies()
    credentials: dict[str, Credential] = Field({}, description="Credential id → where the secret is.")
    schedules: Schedules = Schedules()
    store: StoreConfig = StoreConfig()
    elasticsearch: ElasticsearchConfig = ElasticsearchConfig()
    reports: ReportsConfig = ReportsConfig()
    notify: Notify = Notify()
    exercises: ExercisesConfig = ExercisesConfig()
    known_hosts: str = Field("var/known_hosts", description="citysec-managed SSH host keys.")

    def agency(self, agency_id: str) -> Agency:
        for a in self.agencies:
            if a.id == agency_id:
                return a
        raise KeyError(agency_id)


SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|passphrase|secret|token|private_key|api_key|api_key_value|secret_key|"
    r"access_key|community)$", re.IGNORECASE)
