import pytest

from crosswalk.synth import small_state


@pytest.fixture(scope="session")
def state(tmp_path_factory):
    out = tmp_path_factory.mktemp("state")
    manifest = small_state(str(out), people=4000, seed=11)
    return out, manifest
