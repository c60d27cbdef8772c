"""The what-if finds each account's row by id: dense ids through a table, sparse ones by
search, the same answer either way, and an account gone since its results were written
counts as none (not as its neighbour)."""

import numpy as np

from salesplan.territories.whatif import _positions


def test_positions_by_table_and_by_search_agree_and_miss_gone_accounts():
    dense = np.array([1, 2, 3, 5, 8, 9], dtype=np.int64)      # a table: ids ≤ 4n + 1024
    sparse = dense * 10_000                                   # a binary search
    wanted = np.array([5, 4, 1, 9, 10, 0, -3, 100_000], dtype=np.int64)
    expected = np.array([3, 6, 0, 5, 6, 6, 6, 6])              # 6 = len(ids): not there
    assert _positions(dense)(wanted).tolist() == expected.tolist()
    assert _positions(sparse)(wanted * 10_000).tolist() == expected.tolist()
    assert _positions(np.array([], dtype=np.int64))(wanted).tolist() == [0] * len(wanted)
