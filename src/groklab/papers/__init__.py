"""Everything that belongs to one paper: its recipes (one per figure), its claim checks (in claim
order, module names carry the claim numbers) and its theory tools."""
