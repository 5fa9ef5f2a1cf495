"""The story of the evidence: slides for the live story mode and the self-contained report."""
