"""Data pipeline: raw logs → EventLog → WindowSet → captions → processed dataset."""
