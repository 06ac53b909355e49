"""Recipes of Hidden Progress: one `groklab run NAME` per figure."""
