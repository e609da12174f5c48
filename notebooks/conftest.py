"""pytest collects only the executed notebooks here (nbval); the paired .py sources are not tests."""
collect_ignore_glob = ["*.py"]
