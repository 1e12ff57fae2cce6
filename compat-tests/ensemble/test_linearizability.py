#!/usr/bin/env python3
"""Unit tests of linearizability.py: histories whose verdict is known by hand.

Run: python3 compat-tests/ensemble/test_linearizability.py, or
     python3 -m pytest -q --confcutdir=compat-tests/ensemble compat-tests/ensemble/test_linearizability.py
(--confcutdir: compat-tests/conftest.py wants a server these tests do not need.)
(test_ensemble.py runs them too, first, and counts them in its result line.)
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from history import Op  # noqa: E402
from linearizability import INITIAL, check, check_key  # noqa: E402


def w(p, value, t0, t1, outcome="ok", key="k"):
    return Op(p, "write", key, value, t0, t1, outcome)


def r(p, value, t0, t1, outcome="ok", key="k"):
    return Op(p, "read", key, value, t0, t1, outcome)


class Linearizable(unittest.TestCase):
    def assertLin(self, ops, initial="init"):
        res = check_key("k", ops, initial)
        self.assertTrue(res.ok, res.describe())

    def assertNotLin(self, ops, initial="init"):
        res = check_key("k", ops, initial)
        self.assertFalse(res.ok, "accepted a non-linearizable history")

    def test_sequential_writes_and_reads(self):
        self.assertLin([r(1, "init", 0, 1), w(1, "a", 2, 3), r(2, "a", 4, 5), w(2, "b", 6, 7),
                        r(1, "b", 8, 9)])

    def test_read_concurrent_with_write_may_see_either(self):
        self.assertLin([w(1, "a", 0, 10), r(2, "init", 1, 2), r(3, "a", 3, 4)])
        self.assertLin([w(1, "a", 0, 10), r(2, "a", 1, 2)])

    def test_concurrent_writes_either_order(self):
        # a and b overlap; the reads after both fix b as last, which is allowed.
        self.assertLin([w(1, "a", 0, 5), w(2, "b", 1, 6), r(3, "b", 7, 8), r(1, "b", 9, 10)])
        self.assertLin([w(1, "a", 0, 5), w(2, "b", 1, 6), r(3, "a", 7, 8)])

    def test_unknown_write_may_take_effect_late(self):
        # p1's write timed out; a later read sees it, long after p1 gave up: allowed.
        self.assertLin([w(1, "a", 0, 1), w(2, "x", 2, 3, "unknown"), r(3, "a", 4, 5),
                        r(3, "x", 20, 21)])

    def test_unknown_write_may_never_take_effect(self):
        self.assertLin([w(1, "a", 0, 1), w(2, "x", 2, 3, "unknown"), r(3, "a", 4, 5),
                        r(3, "a", 20, 21)])

    def test_failed_ops_are_ignored(self):
        self.assertLin([w(1, "a", 0, 1), w(2, "x", 2, 3, "fail"), r(3, None, 4, 5, "fail"),
                        r(3, "a", 6, 7)])

    def test_unknown_initial_value_is_fixed_by_first_read(self):
        self.assertLin([r(1, "q", 0, 1), r(2, "q", 2, 3)], initial=INITIAL)
        self.assertNotLin([r(1, "q", 0, 1), r(2, "z", 2, 3)], initial=INITIAL)

    def test_stale_read_after_completed_write(self):
        # b completed at 3; a read invoked at 4 still sees a.
        self.assertNotLin([w(1, "a", 0, 1), w(1, "b", 2, 3), r(2, "a", 4, 5)])

    def test_read_of_initial_after_completed_write(self):
        self.assertNotLin([w(1, "a", 0, 1), r(2, "init", 2, 3)])

    def test_reads_see_values_in_contradictory_orders(self):
        # a and b are concurrent, so either order is fine, but p3 sees a then b while p4
        # sees b then a, and all four reads come after both writes' invokes, overlapping
        # nothing that could explain it.
        self.assertNotLin([w(1, "a", 0, 10), w(2, "b", 0, 10),
                           r(3, "a", 1, 2), r(3, "b", 3, 4),
                           r(4, "b", 1, 2), r(4, "a", 3, 4)])

    def test_read_of_a_value_never_written(self):
        self.assertNotLin([w(1, "a", 0, 1), r(2, "zzz", 2, 3)])

    def test_read_before_the_write_was_invoked(self):
        self.assertNotLin([r(2, "a", 0, 1), w(1, "a", 2, 3)])

    def test_unknown_write_cannot_take_effect_before_its_invoke(self):
        self.assertNotLin([w(1, "a", 0, 1), r(2, "x", 2, 3), w(3, "x", 4, 5, "unknown")])

    def test_unknown_write_takes_effect_at_most_once(self):
        # x, then y overwrote it, then x again: x would have to happen twice.
        self.assertNotLin([w(1, "x", 0, 1, "unknown"), r(2, "x", 2, 3), w(3, "y", 4, 5),
                           r(2, "y", 6, 7), r(2, "x", 8, 9)])

    def test_a_search_that_gives_up_is_a_failure(self):
        # 16 overlapping writes, then a read of the initial value after all of them: no
        # order exists, and proving it takes more than 1,000 steps.
        ops = [w(i, "v%d" % i, i * 0.01, 100 + i) for i in range(16)] + [r(99, "init", 200, 201)]
        res = check(ops, {"k": "init"}, max_steps=1000)
        self.assertFalse(res[0].ok)
        self.assertIn("gave up", res[0].describe())

    def test_keys_are_independent(self):
        ops = [w(1, "a", 0, 1, key="k1"), r(2, "a", 2, 3, key="k1"),
               w(1, "b", 0, 1, key="k2"), r(2, "init", 2, 3, key="k2")]
        res = {x.key: x.ok for x in check(ops, {"k1": "init", "k2": "init"})}
        self.assertEqual(res, {"k1": True, "k2": False})

    def test_generated_sequential_history_passes_and_a_stale_read_fails(self):
        # A register simulated with random overlapping ops whose effects all happen at one
        # instant inside their interval: linearizable by construction. Then one read is
        # changed to a value overwritten before it began: not linearizable.
        rng = random.Random(7)
        ops, value, t = [], "init", 0.0
        points = []
        for i in range(300):
            t += rng.random()
            start = t - rng.random() * 2
            end = t + rng.random() * 2
            if rng.random() < 0.5:
                value = "v%d" % i
                ops.append(w(i % 3, value, start, end))
            else:
                ops.append(r(i % 3, value, start, end))
            points.append((t, value))
        self.assertLin(ops)
        # A read long after "v0"'s write was overwritten (and after every write's interval).
        first = next(o for o in ops if o.op == "write")
        late = t + 10
        ops.append(r(9, first.value, late, late + 1))
        self.assertNotLin(ops)


if __name__ == "__main__":
    unittest.main()
