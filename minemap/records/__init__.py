"""Validated records: the record schema and the rules every reader shares."""
