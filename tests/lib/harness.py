"""The one harness: what a case checked, its result line, running many
jobs side by side on the machine's cores, and the "N passed, N failed,
N skipped" line (a case whose test data are absent says SKIP and why).
Every runner (tests/run.py and each part's own run.py) uses it.

A job is one case (or one program that reports several, like the unit
tests). Jobs may need other jobs (a kernel's module and initramfs before
its boots), say how many slots they take (a TCG guest: one per vCPU), and
roughly how long they take, so that the long chains start first. A run
has one slot more than the machine has cores (SLOTS). Results are
printed in the order the jobs were given, whatever order they finish in.
"""
import json
import os
import re
import subprocess
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MDB_CACHE", ROOT / "tests" / ".cache"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(, (\d+) skipped)?$")
TIMINGS = CACHE / "timings.json"
CORES = os.cpu_count() or 1
# Slots in a run: one more than cores. A TCG guest does not keep its core
# busy all the time (QEMU's I/O, the host's work around a boot, a guest's
# own waits): the warm suite without its newer cases, one single-vCPU
# guest per core, kept the cores 86 % busy over 1017 s; with three jobs
# on two cores, 99 % over 842 s, every case passing.
SLOTS = int(os.environ.get("MDB_SLOTS", CORES + 1))

# What a clean kernel log never contains (every boot is checked for it).
BAD_DMESG = re.compile(r"BUG:|WARNING:|Oops|Call Trace|general protection|"
                       r"ioremap on RAM|memremap attempted")


class Case:
    """The checks of one case: each expect() is one check, a false one is
    a failure with its message."""

    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failures = []
        self.notes = []
        self.seconds = 0.0
        self.skipped = None

    def skip(self, reason):
        """The case cannot run here (e.g. its test data are absent): one
        SKIP line with the reason, counted neither passed nor failed."""
        self.skipped = reason

    def expect(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures.append(what)
        return cond

    def eq(self, got, want, what):
        return self.expect(got == want, f"{what}: got {got!r}, want {want!r}")

    def note(self, text):
        self.notes.append(text)

    def booted(self, b):
        """Every boot: no timeout, the guest ran to its end, clean dmesg."""
        self.expect(not b.timed_out, f"guest timed out after {b.seconds:.0f} s")
        self.expect(b.get("finished") is not None, "guest did not finish")
        bad = [ln for ln in b.dmesg().splitlines() if BAD_DMESG.search(ln)]
        self.expect(not bad, f"dmesg: {bad[:3]}")
        if b.get("boot-retried") is not None:
            self.note("booted again: " + b.get("boot-retried"))


def result_line(label, c):
    if c.failures:
        return f"FAIL {label}: " + "; ".join(c.failures)
    if c.skipped:
        return f"SKIP {label}: {c.skipped}"
    notes = "".join(f", {n}" for n in c.notes)
    checks = f"{c.checks} check{'' if c.checks == 1 else 's'}"
    return f"PASS {label} ({checks}, {c.seconds:.0f} s{notes})"


def summary_line(passed, failed, skipped=0):
    return f"{passed} passed, {failed} failed, {skipped} skipped"


class Job:
    """One unit of work for run().

    func(c) does the work and records checks in the Case c; an exception
    fails the job with its traceback. A job that reports several results
    itself (a program printing PASS/FAIL lines) adds them with
    c.results.append((ok, line)) (ok None: a SKIP line) and prints no
    line of its own unless it failed. needs: jobs that must pass first;
    after: jobs that must only have ended (an order, not a condition).
    slots: those it takes of the run's SLOTS: a guest one per vCPU; 0.5
    for a job that mostly waits (a guest waiting out a timeout); CORES
    for a kernel build (make on every core, niced: beside it one guest
    runs at full speed and the build takes the rest).
    cost: expected seconds (the last run's, if known, wins). quiet: print
    nothing when it passes (setup steps)."""

    def __init__(self, label, func, needs=(), slots=1, cost=20, quiet=False,
                 after=()):
        self.label = label
        self.func = func
        self.needs = list(needs)
        self.after = list(after)
        self.slots = slots
        self.cost = cost
        self.quiet = quiet
        self.case = Case(label.rsplit("/", 1)[-1])
        self.case.results = []
        self.start = self.end = None
        self.done = False

    @property
    def part(self):
        return self.label.split("/", 1)[0]

    def run(self):
        c = self.case
        self.start = time.monotonic()
        failed = [j.label for j in self.needs if not j.ok()]
        if failed:
            c.failures.append(f"needs {', '.join(failed)}, which failed")
        else:
            try:
                self.func(c)
            except Exception:
                c.failures.append("error: " + traceback.format_exc(limit=3)
                                  .strip().replace("\n", " | "))
        self.end = time.monotonic()
        c.seconds = self.end - self.start

    def ok(self):
        return self.done and not self.case.failures and \
            all(ok is not False for ok, _ in self.case.results)

    def lines(self):
        """[(passed, line)] this job reports (passed None: skipped)."""
        c = self.case
        out = list(c.results)
        if c.failures or not (self.quiet or c.results):
            ok = None if c.skipped and not c.failures else not c.failures
            out.append((ok, result_line(self.label, c)))
        return out


def program(c, cmd, cwd=ROOT, env=None):
    """Run a program that prints PASS/FAIL lines and a summary line; its
    lines become c's results. Dying without the summary is a failure."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    summary = False
    log = []
    for line in p.stdout.splitlines():
        if SUMMARY.match(line):
            summary = True
        elif line.startswith(("PASS ", "FAIL ")):
            c.results.append((line.startswith("PASS "), line))
        elif line.startswith("SKIP "):
            c.results.append((None, line))
        else:
            log.append(line)
    if not summary or (p.returncode and
                       all(ok is not False for ok, _ in c.results)):
        tail = " | ".join(log[-5:])
        c.failures.append(f"{cmd[0]} exited {p.returncode} without a clean "
                          f"summary: {tail}")
    return p


def _costs(jobs):
    """Each job's expected seconds: its last run's, else its own guess."""
    known = {}
    if TIMINGS.exists():
        try:
            known = json.loads(TIMINGS.read_text())
        except ValueError:
            pass
    return {j: known.get(j.label, j.cost) for j in jobs}


def _shadow(running, limit):
    """When, as the running jobs' expected ends say, at most `limit`
    slots will be taken (so that a waiting job fits). A job already past
    its expected end is expected to need half its cost again: else one
    overrunning job (a package install on a slow mirror) would keep the
    other cores idle until it ends."""
    now = time.monotonic()
    ends = [(end if end > now else now + cost / 2, weight)
            for end, weight, cost in running.values()]
    busy = sum(w for _, w in ends)
    for end, weight in sorted(ends, key=lambda r: r[0]):
        busy -= weight
        if busy <= limit:
            return end
    return time.monotonic()


def _ranks(jobs, cost):
    """Each job's longest chain of cost through the jobs that need it:
    start the long chains first (critical-path list scheduling)."""
    users = {j: [] for j in jobs}
    for j in jobs:
        for n in j.needs + j.after:
            if n in users:
                users[n].append(j)
    rank = {}

    def r(j):
        if j not in rank:
            rank[j] = cost[j] + max((r(u) for u in users[j]), default=0)
        return rank[j]
    for j in jobs:
        r(j)
    return rank


def select(jobs, filters):
    """The jobs whose label contains one of the filters (all of them if
    there are none; a filter "-SUBSTRING" leaves out the jobs whose label
    contains SUBSTRING), with the jobs they need."""
    skip = [f[1:] for f in filters if f.startswith("-")]
    want = [f for f in filters if not f.startswith("-")]
    keep = set()

    def add(j):
        if j not in keep:
            keep.add(j)
            for n in j.needs:
                add(n)
    for j in jobs:
        if (not want or any(f in j.label for f in want)) and \
                not any(f in j.label for f in skip):
            add(j)
    return [j for j in jobs if j in keep]


def run(jobs, slots=None, out=print):
    """Run jobs, at most `slots` slots taken at once (default SLOTS),
    print their lines in the given order and return (passed, failed,
    skipped)."""
    slots = slots or SLOTS
    cost = _costs(jobs)
    listed = set(jobs)
    for j in jobs:
        missing = [n.label for n in j.needs if n not in listed]
        if missing:
            raise ValueError(f"{j.label} needs {missing}, not in the run")
        j.after = [n for n in j.after if n in listed]
    rank = _ranks(jobs, cost)
    cond = threading.Condition()
    pending = list(jobs)
    busy = 0
    printed = 0
    passed = failed = skipped = 0

    def work(job, weight):
        nonlocal busy
        try:
            job.run()
        finally:
            with cond:
                job.done = True
                busy -= weight
                cond.notify_all()

    running = {}

    def start(job, weight):
        nonlocal busy
        busy += weight
        pending.remove(job)
        running[job] = (time.monotonic() + cost[job], weight, cost[job])
        threading.Thread(target=work, args=(job, weight), daemon=True).start()

    with cond:
        while printed < len(jobs):
            # Start the highest-ranked ready jobs while they fit. When one
            # needs more cores than are free, it is next; until its cores
            # free up (as the running jobs' expected ends say), only jobs
            # expected to end by then may use the idle ones.
            for j in [j for j in running if j.done]:
                del running[j]
            ready = sorted((j for j in pending
                            if all(n.done for n in j.needs + j.after)),
                           key=lambda j: -rank[j])
            shadow = None
            for job in ready:
                weight = min(job.slots, slots)
                if busy + weight > slots:
                    if shadow is None:
                        shadow = _shadow(running, slots - weight)
                    continue
                if shadow is None or time.monotonic() + cost[job] <= shadow:
                    start(job, weight)
            while printed < len(jobs) and jobs[printed].done:
                lines = jobs[printed].lines()
                for ok, line in lines:
                    out(line)
                    passed += ok is True
                    failed += ok is False
                    skipped += ok is None
                jobs[printed].reported = len(lines)
                printed += 1
            if printed < len(jobs):
                cond.wait()
    _save_timings(jobs)
    return passed, failed, skipped


def _save_timings(jobs):
    try:
        known = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    except ValueError:
        known = {}
    for j in jobs:
        if j.start is not None:
            known[j.label] = round(j.end - j.start, 1)
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(known, indent=0, sort_keys=True) + "\n")


def timing_table(jobs, wall):
    """Per part: the cases it reported, the seconds its jobs took (summed
    over jobs, each counted once per slot it takes) and its wall
    time, from its first job's start to its last job's end (parts run side
    by side, so the walls overlap)."""
    parts = {}
    for j in jobs:
        p = parts.setdefault(j.part, {"cases": 0, "busy": 0.0,
                                      "first": None, "last": None})
        p["cases"] += getattr(j, "reported", 0)
        if j.start is not None:
            p["busy"] += (j.end - j.start) * j.slots
            p["first"] = min(p["first"] or j.start, j.start)
            p["last"] = max(p["last"] or j.end, j.end)
    rows = [("part", "cases", "seconds", "wall")]
    for name, p in parts.items():
        span = (p["last"] - p["first"]) if p["first"] is not None else 0
        rows.append((name, str(p["cases"]), f"{p['busy']:.0f}", f"{span:.0f}"))
    rows.append(("total", str(sum(p["cases"] for p in parts.values())),
                 f"{sum(p['busy'] for p in parts.values()):.0f}", f"{wall:.0f}"))
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(r[i].ljust(width[i]) if i == 0 else
                               r[i].rjust(width[i]) for i in range(4))
                     for r in rows)


def cpu_times():
    """(busy, all) jiffies of every core since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(t) for t in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def main(jobs, filters=(), table=False):
    """A runner's whole main(): select, run, print the summary (after the
    timing table and how busy the cores were, if asked for), return the
    exit status."""
    jobs = select(jobs, filters)
    start, cpu = time.monotonic(), cpu_times()
    passed, failed, skipped = run(jobs, out=lambda line: print(line, flush=True))
    if table:
        print(timing_table(jobs, time.monotonic() - start), flush=True)
        busy, total = (b - a for a, b in zip(cpu, cpu_times()))
        print(f"cores busy {100 * busy / max(total, 1):.0f} % of the run "
              f"({CORES} cores, {SLOTS} slots)", flush=True)
    print(summary_line(passed, failed, skipped), flush=True)
    return 1 if failed else 0


def once(obj, name, make, _lock=threading.Lock()):
    """obj.name, made by make() the first time any thread asks (the rest
    wait for it): for what several cases share, like a probe boot."""
    with _lock:
        lock = obj.__dict__.setdefault("_once_locks", {}).setdefault(
            name, threading.Lock())
    with lock:
        if name not in obj.__dict__:
            obj.__dict__[name] = make()
        return obj.__dict__[name]
