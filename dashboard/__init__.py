"""Fashion-MNIST Studio dashboard: a multi-page Dash app over the `core` package.

Pages live in `dashboard/pages/` (one file each, callbacks beside their layout), figures are pure
functions in `dashboard/figures/`, reusable pieces in `dashboard/components/`. Nothing here imports
TensorFlow: models are reached only through `core`.
"""
