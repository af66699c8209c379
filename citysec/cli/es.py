"""citysec es setup, citysec ship, and the Elasticsearch part of `citysec status`."""

from __future__ import annotations

from typing import Any

import click

from findings.elastic import journal as elastic_journal
from findings.errors import CitysecError

from citysec.jobs import run_job
from citysec.cli.context import App, emit, json_option, pass_app
from citysec.cli.status_parts import part

# the client library is imported when an Elasticsearch command runs, not on every command's start


@part
def _elasticsearch(app: App) -> tuple[str, Any]:
    import elastic_transport
    from elasticsearch import ApiError

    from citysec.jobs.ship import client_from_config, configured, where
    es = app.city.elasticsearch
    data: dict[str, Any] = {"configured": configured(app), "hosts": where(app) or None,
                            "namespace": es.namespace, "reachable": None,
                            "awaiting_confirmation": elastic_journal.depth(app.store),
                            "latest_dead_letters": [
                                {k: d[k] for k in ("doc_id", "stream", "dataset", "status", "reason", "at")}
                                for d in app.store.dead_letters(limit=5)]}
    if not configured(app):
        return "elasticsearch", data
    try:
        info = client_from_config(app, timeout=5).info()
        data.update(reachable=True, version=info["version"]["number"])
    except (ApiError, elastic_transport.TransportError, CitysecError) as exc:
        data.update(reachable=False, error=str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__)
    return "elasticsearch", data


def _setup_render(r: dict) -> None:
    click.echo(f"Elasticsearch {r['server_version']} (client {r['client_version']}): set up")
    click.echo(f"  templates: {', '.join(r['templates'])}")
    click.echo(f"  state index citysec-state: {r['state_index']}")
    click.echo(f"  retention: {r['retention_days']} days"
               + (f" (ILM policy {r['ilm_policy']})" if r["ilm_policy"] else ""))
    click.echo(f"  data streams: logs-citysec.<area>-{r['namespace']}"
               + ("" if r["data_streams"] else " (plain indices: no data-stream API)"))


def _ship_render(r: dict) -> None:
    if r.get("skipped"):
        click.echo(f"no Elasticsearch configured (elasticsearch.hosts): {r['remaining']} documents "
                   "wait in the outbox")
        return
    click.echo(f"shipped {r['sent']} documents ({r['already']} were there already) in {r['batches']} "
               f"batches; dead letters {r['dead_letters']}, deferred {r['deferred']}, "
               f"sent again {r['requeued']}; outbox now {r['remaining']}")
    if r["dead_letters"]:
        click.echo("see `citysec status` for the dead letters and the server's reasons", err=True)


def register(cli: click.Group) -> None:
    @cli.group("es")
    def es_group() -> None:
        """Elasticsearch: templates, data streams, the state index."""

    @es_group.command("setup")
    @click.option("--retry-for", type=click.FloatRange(min=0), default=10.0, show_default=True,
                  help="Seconds to keep retrying an unreachable server before giving up (exit 3).")
    @json_option
    @pass_app
    def es_setup(app: App, retry_for: float, as_json: bool) -> None:
        """Create or update the templates, data stream settings, retention and citysec-state."""
        from findings import elastic

        from citysec.jobs.ship import client_from_config, where
        es = app.city.elasticsearch
        retry = elastic.Retrier(where=where(app), retry_for=retry_for)
        client = client_from_config(app)
        result = retry(lambda: elastic.setup(client, retention_days=es.retention_days), "setup")
        result["namespace"] = es.namespace
        emit(result, as_json, _setup_render)
        for warning in result["warnings"]:
            click.echo(f"warning: {warning}", err=True)

    @cli.command("ship")
    @click.option("--retry-for", type=click.FloatRange(min=0), default=60.0, show_default=True,
                  help="Seconds to keep retrying an unreachable server before giving up (exit 3).")
    @click.option("--requeue-dead-letters", is_flag=True,
                  help="Put the dead letters back in the outbox first (after fixing the mapping).")
    @json_option
    @pass_app
    def ship_cmd(app: App, retry_for: float, requeue_dead_letters: bool, as_json: bool) -> None:
        """Deliver the outbox to Elasticsearch (exactly once; nothing lost while it is down)."""
        if requeue_dead_letters:
            app.store.requeue_dead_letters()
        _run_id, counts = run_job(app, "ship", retry_for=retry_for)
        emit(counts, as_json, _ship_render)
