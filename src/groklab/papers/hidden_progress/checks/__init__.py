"""Claim checks of Hidden Progress, claims 1-19 (module names carry the claim numbers)."""
