"""Pure figure functions: numbers in, `plotly.graph_objects.Figure` out (no Dash, no I/O)."""
