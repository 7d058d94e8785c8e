"""Two columns kept equal in both directions while two releases run: the triggers, one module per vendor (common.py: what they share)."""
