from groklab.probes import hidden_progress  # noqa: F401  (registers the probes)
