"""Claim checks of the barren-plateau paper, claims 32-36."""
