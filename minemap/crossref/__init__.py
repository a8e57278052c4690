"""Cross-reference: pure functions of minefields, releases, items and an as-of date."""
