"""The application: the `ganseg` command (`cli`), the end-to-end `demo`, the `shipped` course
checkpoints, and reading data files (`data`); the only layer that imports data_prep."""
