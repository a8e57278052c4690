"""Readers: one per source kind (GIS files, traverse records, weekly report texts)."""
