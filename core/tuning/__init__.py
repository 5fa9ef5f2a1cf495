"""Hyperparameter search with Optuna: search spaces, studies whose trials are ordinary runs, promotion.

`core.tuning.space` says what can be searched (and refuses empty, inverted or unknown ranges);
`core.tuning.study` runs a study (TPE sampler, median pruning on per-epoch validation accuracy),
each trial a `validated` run tagged with its study, and promotes the best configuration to a
normal full-split run, the only place the test set is used.
"""
