"""The application state every command and job needs: config, store, sensor — built lazily.

Light on purpose: a scheduled job's own process (:mod:`citysec.scheduler.child`) imports this, not the
`citysec` command (click and every command's libraries). :mod:`citysec.cli.context` re-exports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

from findings.errors import unknown

if TYPE_CHECKING:
    from citysec.share import Share
    from config.loader import LoadedConfig
    from findings import Store


# The modules that declare the other packages' tables (findings.schema). The command opens the store
# with all of them, so that an upgrade migrates every table at once and a store newer than this
# citysec is refused before anything runs; a scheduled job's process opens it with findings' own
# (it must not import the packages it does not use) and each owner adds its tables on first use.
SCHEMA_OWNERS = ("collectors.state", "playbooks.casedb", "exercises.db", "citysec.web.tables")


@dataclass
class App:
    config_path: str | None = None
    sensor_override: str | None = None
    schema_owners: tuple[str, ...] = ()
    _config: LoadedConfig | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)
    _share: Share | None = field(default=None, repr=False)

    @property
    def config(self) -> LoadedConfig:
        if self._config is None:
            from config.loader import load_config
            self._config = load_config(self.config_path)
        return self._config

    def check_config(self) -> LoadedConfig:
        """Load the configuration with the rules of every command that uses it (``config check``)."""
        from citysec.checks import later_problems
        from config.loader import load_config
        self._config = load_config(self.config_path, later=later_problems)
        return self._config

    @property
    def city(self):
        return self.config.city

    @property
    def sensor(self) -> str | None:
        """The sensor id given (--sensor, CITYSEC_SENSOR, the config's `sensor`), checked; None if none is."""
        sid = self.sensor_override or os.environ.get("CITYSEC_SENSOR") or self.city.sensor
        if sid is not None:
            from citysec.share import resolve_sensor
            resolve_sensor(self.city, sid)     # an unknown id: UsageError naming the known ones
        return sid

    @property
    def share(self) -> Share:
        """What this instance's sensor owns (:mod:`citysec.share`): every job and scope guard asks this."""
        if self._share is None:
            from citysec.share import share_of
            self._share = share_of(self.city, self.sensor)
        return self._share

    @property
    def store(self) -> Store:
        if self._store is None:
            from findings import Store
            schemas = [import_module(m).SCHEMA for m in self.schema_owners]
            self._store = Store(self.config.resolve(self.city.store.path), schemas=schemas)
        return self._store

    def smtp(self) -> dict:
        """notify.smtp as the senders take it (``ca_file`` resolved against the config's folder);
        {} when no relay is configured."""
        smtp = self.city.notify.smtp
        if smtp is None:
            return {}
        out = smtp.model_dump()
        if smtp.ca_file:
            out["ca_file"] = self.config.resolve(smtp.ca_file)
        return out

    def agency_ids(self, agency: str | None) -> list[str]:
        ids = [a.id for a in self.city.agencies]
        if agency is None:
            return ids
        if agency not in ids:
            raise unknown("agency", agency, ids)
        return [agency]
