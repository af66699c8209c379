"""The process one scheduled job runs in: ``python -m citysec.scheduler.child --job NAME ...``.

Started only by the scheduler (:mod:`citysec.scheduler.exec`). It dies with its parent
(PR_SET_PDEATHSIG), loads the same config, sensor and job modules, and runs the job as a
recorded run (:func:`citysec.jobs.run_job`: start, end, outcome, counts, error). Exit 0 when the
job succeeded, 1 when it raised (the run says why), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when the thread that started it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError) as exc:  # not Linux: the unit's KillMode still covers it
        logging.getLogger("citysec.scheduler").warning("cannot tie the job to its parent: %s", exc)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="citysec.scheduler.child")
    p.add_argument("--job", required=True)
    p.add_argument("--parent", type=int, required=True)
    p.add_argument("--config")
    p.add_argument("--sensor")
    p.add_argument("--jobs-module", action="append", default=[])
    p.add_argument("--log-file")
    p.add_argument("--log-level", default="info")
    args = p.parse_args(argv)
    die_with_parent(args.parent)

    from findings.errors import CitysecError

    from citysec.app import App
    from citysec.jobs import JOBS, run_job
    from citysec.logging_setup import setup_logging
    from citysec.scheduler.plan import load_job_modules

    setup_logging(level=args.log_level, log_file=args.log_file, sensor=args.sensor)
    log = logging.getLogger("citysec.job")
    app = App(config_path=args.config, sensor_override=args.sensor)
    try:
        load_job_modules(args.jobs_module)
    except CitysecError as exc:
        log.error("%s", exc)
        return 2
    if args.job not in JOBS:
        log.error("unknown job %r", args.job)
        return 2
    try:
        run_id, counts = run_job(app, args.job)
    except CitysecError as exc:
        log.error("job %s failed: %s", args.job, exc, extra={"citysec": {"job": args.job}})
        return 1
    except Exception:  # recorded as 'failed' by run_job; logged here with its stack trace
        log.exception("job %s failed", args.job, extra={"citysec": {"job": args.job}})
        return 1
    finally:
        app.store.close()
    log.info("job %s done", args.job, extra={"citysec": {"job": args.job, "run_id": run_id, "counts": counts}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
