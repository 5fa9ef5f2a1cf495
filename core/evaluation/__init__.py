"""Evaluation of finished runs: metrics, the confusion-matrix drill-down, leaderboard rows, plain
readings of curves and heatmaps (`analysis`) and suspected label errors (`labels`)."""
