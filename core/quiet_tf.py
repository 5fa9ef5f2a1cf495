"""TensorFlow's start-up lines, kept off a command line's output: since TF 2.20 its C++ start-up
messages ("All log messages before absl::InitializeLog() …", oneDNN, "Could not find cuda drivers")
are written to stderr before any log level applies, so TF_CPP_MIN_LOG_LEVEL no longer hides them.

`install()` (called by `python -m core` before anything imports TensorFlow) wraps the first import of
`tensorflow`: file descriptor 2 goes to a temporary file while it loads, and every line that is not one
of those known start-up notices is written back to stderr, so a real error still shows. TensorFlow's
Python deprecation warnings are raised to ERROR level for the command line too.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator

NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|Could not find cuda drivers"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|TF-TRT Warning|computation placer already registered"
    r"|This TensorFlow binary is optimized to use available CPU instructions|rebuild TensorFlow with the appropriate"
)


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Run the block with fd 2 captured; write back every captured line that is not start-up noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [line for line in sink.read().decode("utf-8", "replace").splitlines(True) if not NOISE.search(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module):
            with filtered_stderr():
                load(module)
            logging.getLogger("tensorflow").setLevel(logging.ERROR)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Filter TensorFlow's start-up lines at its first import in this process (no-op once imported)."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())
