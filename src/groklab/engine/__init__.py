from groklab.engine.train import ChunkResult, train_chunk

__all__ = ["ChunkResult", "train_chunk"]
