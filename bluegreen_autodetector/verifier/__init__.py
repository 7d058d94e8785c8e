"""The judge: project states in, findings out (what breaks a release)."""
