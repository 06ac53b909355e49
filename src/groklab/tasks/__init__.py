from groklab.tasks import modular, parity  # noqa: F401  (registers the tasks)
