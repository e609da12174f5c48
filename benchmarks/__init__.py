"""Speed measurements of the project (run with `make bench`; never part of the tests)."""
