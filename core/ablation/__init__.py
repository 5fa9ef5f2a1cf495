"""Ablation studies: which techniques make a model better, measured over seeds on validation."""
