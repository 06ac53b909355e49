"""Claim checks 20-31 of Why Do You Grok (so far 23, 28 and 31)."""
