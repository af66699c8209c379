-- findings 3: the start time of a run's process (findings.support.procs), so that a pid another
-- process took after a reboot or many forks is not taken for the run's.
ALTER TABLE runs ADD COLUMN pid_start INTEGER;
