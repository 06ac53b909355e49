from groklab.models import mlp  # noqa: F401  (registers the models)
