"""Architectures raced at equal training time on this machine (plan, quiet timing, engine, results)."""
