"""``python -m tests.bench [module ...]``: run the benchmarks, print one
table; see tests/bench/__init__.py."""

import sys

from tests import bench

sys.exit(bench.main(sys.argv[1:]))
