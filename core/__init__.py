"""Fashion-MNIST Studio core: data, models, training, run store and explanations.

Plain Python with no Dash import; everything the dashboard shows comes from a function here
that a test can call without a browser. TensorFlow is imported lazily, only by the modules that
need it, so reading runs or data statistics stays fast.
"""

__version__ = "0.1.0"

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ start-up chatter quiet
