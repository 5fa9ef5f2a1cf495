"""Speed benchmarks (not tests): `python -m bench` runs them all; each module also runs alone."""
