"""A renamed table's old name kept readable and writable while two releases run: a view, one module per vendor (common.py: what they share)."""
