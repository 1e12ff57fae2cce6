#!/usr/bin/env python3
"""A linearizability checker for independent read/write registers (one register per znode).

A history is a list of `history.Op` (or anything with the same fields): `key`, `op` ("write" or
"read"), `value`, `invoke`, `complete` and `outcome` ("ok", "fail" or "unknown"). Times are one
process's `time.monotonic()`, so clients in threads of one driver share a clock.

Linearizability is compositional (Herlihy & Wing): a history of independent objects is
linearizable iff each object's sub-history is. So each key is checked on its own, which keeps
every search small.

The per-key search is Wing & Gong's, with Lowe's just-in-time linearization and his memoization
("Testing for linearizability", 2017), as porcupine and knossos implement it:

- Every operation becomes a call entry and a return entry, in one list sorted by time.
- Walk the list from its head. At a call entry, try to linearize that operation now: apply it
  to the register; if the register allows it (a read must see the current value; a write
  always succeeds) and the pair (set of linearized operations, register value) has not been
  seen before, lift the operation's call and return entries out of the list, remember the
  step on a stack and start again from the head. Otherwise go on to the next entry.
- Reaching a return entry means that operation has completed and was not linearized before
  it: every choice made so far is wrong. Pop the last step, put its entries back, restore the
  register and try the entry after that operation's call.
- An empty list means every operation was linearized: the history is linearizable. An empty
  stack when backtracking means no order exists.

The memo (linearized set, value) is what makes this practical: two different orders that
linearize the same operations and leave the same value have the same future.

What the recorded outcomes mean here:

- "ok": took effect exactly once, somewhere between invoke and complete.
- "fail": a write the server refused (never happened) or a read that returned nothing: left
  out, since neither changes the register.
- "unknown" (timeout, connection loss): a write that may or may not have taken effect, at any
  time after its invoke: its return entry is at +infinity, and whether it happened is part of
  the search (its call entry may simply never be chosen; the list is then empty of everything
  but such calls, which is accepted). A read with an unknown outcome saw nothing and is left
  out, like a failed one.

One simplification, exact for registers whose written values are unique: an unknown write
whose value no read ever returned can be left out. Leaving it out (taking it as "never took
effect") is allowed, and if some linearization applies it, the same linearization without it
is still valid because every read that followed it saw some later write's value. This keeps
the search from branching on writes that a crashed member's client fired into the void.
"""

import math
from collections import defaultdict

INITIAL = object()  # "no initial value given": the first read fixes nothing, see check_key


class _Entry:
    """One node of the doubly linked call/return list."""

    __slots__ = ("op_id", "is_call", "time", "prev", "next", "match")

    def __init__(self, op_id, is_call, time):
        self.op_id = op_id
        self.is_call = is_call
        self.time = time
        self.prev = None
        self.next = None
        self.match = None  # a call's return entry (and the other way round)


def _lift(call):
    """Takes an operation's call and return entries out of the list."""
    for e in (call, call.match):
        e.prev.next = e.next
        if e.next is not None:
            e.next.prev = e.prev


def _unlift(call):
    """Puts them back (in the reverse order of _lift, so the neighbours are right)."""
    for e in (call.match, call):
        e.prev.next = e
        if e.next is not None:
            e.next.prev = e


class Result:
    """The verdict for one key: ok, and when not, the operations of the longest linearized
    prefix the search reached and the operation it could not place (for the report)."""

    def __init__(self, key, ok, ops, stuck=None, best=()):
        self.key = key
        self.ok = ok
        self.ops = ops
        self.stuck = stuck
        self.best = best

    def describe(self):
        if self.ok:
            return "key %s: linearizable (%d operations)" % (self.key, len(self.ops))
        lines = ["key %s: NOT linearizable (%d operations)" % (self.key, len(self.ops))]
        if self.best:
            lines.append("  longest linearized prefix (%d ops) ends with:" % len(self.best))
            for op in self.best[-5:]:
                lines.append("    " + _fmt(op))
            if self.stuck is not None:
                lines.append("  the first operation left out of it: " + _fmt(self.stuck))
        elif self.stuck is not None:
            lines.append("  no order places: " + _fmt(self.stuck))
        return "\n".join(lines)


def _fmt(op):
    end = "inf" if op.outcome == "unknown" else "%.4f" % op.complete
    return "p%s %s %r [%.4f, %s] %s" % (op.process, op.op, op.value, op.invoke, end, op.outcome)


def relevant_ops(ops):
    """The operations the search needs (see the module doc): ok reads and writes, and unknown
    writes whose value some ok read returned."""
    seen = {op.value for op in ops if op.op == "read" and op.outcome == "ok"}
    out = []
    for op in ops:
        if op.outcome == "ok":
            out.append(op)
        elif op.outcome == "unknown" and op.op == "write" and op.value in seen:
            out.append(op)
    return out


def check_key(key, ops, initial=INITIAL, max_steps=5_000_000):
    """Is the history `ops` of one register linearizable, starting from `initial`?

    initial=INITIAL means the initial value is not known: the register then starts as
    "anything", and the first read linearized before any write fixes it.
    max_steps bounds the search; running out raises RuntimeError (never a silent pass)."""
    ops = relevant_ops(ops)
    # A read of a value no write wrote (nor the initial value) fails every order: say so
    # without a search, which on many concurrent writes would be exponential before failing.
    written = {op.value for op in ops if op.op == "write"}
    for op in ops:
        if op.op == "read" and op.value not in written and initial is not INITIAL \
                and op.value != initial:
            return Result(key, False, ops, stuck=op)
    # Build the call/return list: calls before returns at equal times (the generous reading:
    # an operation invoked the instant another completed may be concurrent with it).
    events = []
    for i, op in enumerate(ops):
        ret_time = math.inf if op.outcome == "unknown" else op.complete
        if ret_time < op.invoke:
            raise ValueError("operation completes before it is invoked: %s" % _fmt(op))
        events.append((op.invoke, 0, i, True))
        events.append((ret_time, 1, i, False))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    head = _Entry(None, True, -math.inf)  # sentinel: head.next is the first live entry
    calls = {}
    returns = {}
    prev = head
    for t, _, i, is_call in events:
        e = _Entry(i, is_call, t)
        (calls if is_call else returns)[i] = e
        prev.next = e
        e.prev = prev
        prev = e
    for i, c in calls.items():
        c.match = returns[i]
        returns[i].match = c

    state = initial
    linearized = 0  # bit i set: ops[i] is linearized
    cache = set()
    stack = []  # (call entry, register value before it)
    best = []
    entry = head.next
    steps = 0
    while entry is not None:
        steps += 1
        if steps > max_steps:
            raise RuntimeError("key %s: search gave up after %d steps" % (key, max_steps))
        if entry.is_call:
            op = ops[entry.op_id]
            if op.op == "write":
                allowed, new_state = True, op.value
            elif state is INITIAL or state == op.value:
                allowed, new_state = True, op.value
            else:
                allowed, new_state = False, state
            if allowed:
                new_lin = linearized | (1 << entry.op_id)
                memo = (new_lin, new_state)
                if memo not in cache:
                    cache.add(memo)
                    stack.append((entry, state))
                    state = new_state
                    linearized = new_lin
                    _lift(entry)
                    if len(stack) > len(best):
                        best = [c.op_id for c, _ in stack]
                    entry = head.next
                    continue
            entry = entry.next
            continue
        # A return entry whose operation is not linearized yet: undo the last step.
        if math.isinf(entry.time):
            # Only unknown writes' returns are left: the ones not chosen never took effect.
            return Result(key, True, ops)
        if not stack:
            return _failure(key, ops, best)
        call, state = stack.pop()
        linearized &= ~(1 << call.op_id)
        _unlift(call)
        entry = call.next
    return Result(key, True, ops)


def _failure(key, ops, best):
    """The verdict "not linearizable", with the longest linearized prefix found and the
    operation that stopped it: the earliest-completing one not in that prefix."""
    done = set(best)
    left = [op for i, op in enumerate(ops) if i not in done]
    stuck = min(left, key=lambda op: math.inf if op.outcome == "unknown" else op.complete)
    return Result(key, False, ops, stuck=stuck, best=[ops[i] for i in best])


def check(ops, initial=None, max_steps=5_000_000):
    """Checks a whole history, key by key. `initial`: {key: value} of values the registers
    held before the history (keys not in it start unknown). Returns [Result] (sorted by key)."""
    by_key = defaultdict(list)
    for op in ops:
        by_key[op.key].append(op)
    initial = initial or {}
    out = []
    for k in sorted(by_key):
        try:
            out.append(check_key(k, by_key[k], initial.get(k, INITIAL), max_steps))
        except RuntimeError as e:  # the search's step bound: no verdict is a failure
            res = Result(k, False, by_key[k])
            res.describe = lambda e=e: str(e)
            out.append(res)
    return out
