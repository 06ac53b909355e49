"""Mohamadi, Li, Wu, Sutherland 2024, "Why Do You Grok?" (claims 20-31): theory tools so far."""
