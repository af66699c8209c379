-- exercises 2: the start time of the runner's process (findings.support.procs), so that a pid another
-- process took after a reboot or many forks is not taken for the runner.
ALTER TABLE exercise_runs ADD COLUMN pid_start INTEGER;
