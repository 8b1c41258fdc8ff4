"""Spreadsheet imports: upload, validate every row, confirm, commit all rows or none (issue 3)."""
