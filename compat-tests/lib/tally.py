"""Pass/fail counting for the staged drivers: each check prints `ok   what` or `FAIL what: detail`,
and the driver prints the `N passed, M failed` line test.sh counts."""


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok   " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL %s%s" % (what, (": " + str(detail)) if detail else ""), flush=True)
        return ok
