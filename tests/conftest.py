"""Shared test set-up: every test runs torch on one thread.

The models under test are tiny; on a 2-core machine a second thread buys nothing and makes
timings noisier when pytest and a notebook kernel share the cores.
"""
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
