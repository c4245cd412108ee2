import pytest

from examples.simulator import Simulator


@pytest.fixture
def simulator():
    with Simulator(port=0, tls_port=0) as running:
        yield running
