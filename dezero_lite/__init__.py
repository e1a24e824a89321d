"""dezero_lite: define-by-run autodiff on NumPy."""
