"""`python -m core …`: the command-line interface (see core.cli)."""

import os

# TensorFlow's C++ start-up lines (oneDNN, CUDA stubs) before a one-line answer or error are noise on
# the command line; its Python warnings still show. Set before anything imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core import quiet_tf  # the environment above is set first

quiet_tf.install()  # TensorFlow 2.20+ writes its start-up lines before any log level applies

from core.cli import main  # noqa: E402

raise SystemExit(main())
