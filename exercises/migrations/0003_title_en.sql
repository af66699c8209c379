-- exercises 3: the scenario's title in English beside the Vietnamese one (title): scenario texts are
-- bilingual, and the run's events carry both (citysec.exercise.name, .name_en) so the periodic
-- reports name a drill in the reader's language. Runs stored before keep NULL (one title).
ALTER TABLE exercise_runs ADD COLUMN title_en TEXT;
