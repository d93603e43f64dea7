#!/usr/bin/env python3
"""The whole test suite: one line per case, a per-part timing table, then
"N passed, N failed".

Every part's cases are jobs for one scheduler (tests/lib/harness.py),
which keeps the machine's cores busy (one single-vCPU guest more than
cores, or MDB_SLOTS) and starts the long chains first: the debug
kernel's build and the matrix chroots while the first guests boot.
Lines come out in this order, whatever order the jobs finish in:

  static   W=1 + sparse builds, checkpatch, shellcheck, cppcheck, links
  unit     unit tests of the table scan (tests/unit)
  fuzz     a bounded libFuzzer run (FUZZ_SECONDS, default 60)
  e2e      QEMU boots of real MEMDISK on each installed kernel
  matrix   5.10 and the newest kernel, in chroots
  debug    the e2e cases under a KASAN/KFENCE/lockdep/UBSAN kernel
  upstream the driver as a kernel patch series; built in, no initramfs
  distro   DKMS, packages, udev, initramfs generators, live systems
  host     nothing on this machine changed (tests/lib/hoststate.py)

Usage: tests/run.py [--fuzz-seconds N] [SUBSTRING...] [-SUBSTRING...]
  with substrings, only the jobs whose label (e.g. e2e/6.1/iso, unit,
  fuzz) contains one of them, and what they need; -SUBSTRING leaves out
  the jobs whose label contains it (unless a job kept needs them).
"""
import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "lib"), str(HERE / "e2e"), str(HERE / "debug"),
                str(HERE / "distro")]
import harness  # noqa: E402
import hoststate  # noqa: E402


def program_job(label, cmd, cost):
    def run(c):
        harness.program(c, cmd)
    return harness.Job(label, run, cost=cost)


def main(args):
    fuzz_seconds = os.environ.get("FUZZ_SECONDS", "60")
    if args[:1] == ["--fuzz-seconds"]:
        fuzz_seconds, args = args[1], args[2:]
    static = _load(HERE / "static.py", "static")
    matrix = _load(HERE / "matrix.py", "matrix")
    e2e_run = _load(HERE / "e2e" / "run.py", "e2e_run")
    debug_run = _load(HERE / "debug" / "run.py", "debug_run")
    distro_run = _load(HERE / "distro" / "run.py", "distro_run")
    upstream_run = _load(HERE / "upstream" / "run.py", "upstream_run")

    jobs = static.jobs()
    jobs.append(program_job("unit", ["make", "-s", "-C", "tests/unit",
                                     "unit"], 15))
    jobs.append(program_job("fuzz", [
        "make", "-s", "-C", "tests/unit", "fuzz",
        f"FUZZ_SECONDS={fuzz_seconds}"], int(fuzz_seconds) + 30))
    matrix_jobs, debug_jobs = matrix.jobs(), debug_run.jobs()
    chroot = next(j for j in matrix_jobs if j.label == "matrix/trixie/chroot")
    jobs += e2e_run.jobs() + matrix_jobs + debug_jobs + \
        upstream_run.jobs(debug_jobs[0], chroot) + distro_run.jobs()
    before = hoststate.snapshot()
    jobs.append(harness.Job("host/untouched",
                            lambda c: hoststate.compare(c, before),
                            after=list(jobs), cost=5))
    return harness.main(jobs, args, table=True)


def _load(path, name):
    """A part's runner as a module (several are called run.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
