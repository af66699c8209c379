"""The composition root: the `citysec` command (:mod:`.cli`), the jobs (:mod:`.jobs`) and the
scheduler (:mod:`.scheduler`). The one package that imports all the others; none imports it.
"""
