"""`python -m core …`: the command-line interface (see core.cli)."""

import os

# TensorFlow's C++ start-up lines (oneDNN, CUDA stubs) before a one-line answer or error are noise on
# the command line; its Python warnings still show. Set before anything imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.cli import main

raise SystemExit(main())
