"""The scheduler: the plan of jobs (:mod:`.plan`), schedule strings (:mod:`.spec`), calendars and
windows (:mod:`.calendar`), the sensor's scope (:mod:`.scope`), the loop (:mod:`.loop`) and one
process per job run (:mod:`.exec`, :mod:`.child`).
"""
