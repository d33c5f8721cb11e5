"""Keep every test's control plane and secrets out of the working tree.

Set at import, before any session fixture runs, so library defaults (which write to the
current directory) never touch the repository.
"""

import os
import tempfile

_root = tempfile.mkdtemp(prefix="crosswalk-tests-")
os.environ["CROSSWALK_CONTROL"] = f"sqlite:///{_root}/control.db"
os.environ["CROSSWALK_SECRETS"] = f"{_root}/secrets"
os.environ.pop("CROSSWALK_HUB", None)
os.environ.pop("CROSSWALK_AGREEMENT", None)
