"""`groklab check SUITE`: every claim of a paper as a check that prints its measured number and a
verdict, PASS / FAIL against the spec's threshold or INFO for a number without one. The checks
themselves live with their paper (`groklab.papers.<paper>.checks`); `checks.suite` runs them."""
