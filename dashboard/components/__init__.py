"""Reusable layout pieces shared by several pages."""
