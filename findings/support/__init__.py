"""Helpers every package needs that are not about findings: running a program or a socket inside a
network namespace (:mod:`.netns`) and reading YAML with the line of every value (:mod:`.yamlpos`).
"""
