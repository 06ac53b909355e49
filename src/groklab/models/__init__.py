from groklab.models import mlp, polynet, single_neuron  # noqa: F401  (registers the models)
