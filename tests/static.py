#!/usr/bin/env python3
"""Static checks, one line each: W=1 + sparse builds on every installed
kernel, checkpatch --strict (from Debian's linux-source), shellcheck on
every shell script, cppcheck on the userspace C. A missing tool fails."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))
import images  # noqa: E402

ROOT = images.ROOT
KERNEL_C = ["memdiskblk.c", "memdiskblk.h", "memdiskblk_scan.c"]
USER_C = ["tests/unit/test_scan.c", "tests/fuzz/fuzz_scan.c",
          "tests/lib/layout.c", "tests/e2e/guest/mdbio.c",
          "tests/bench/mdbbench.c"]


def checkpatch():
    """scripts/checkpatch.pl from the newest linux-source tarball, cached."""
    dest = images.CACHE / "checkpatch"
    script = dest / "scripts/checkpatch.pl"
    if script.exists():
        return script
    tarballs = sorted(Path("/usr/src").glob("linux-source-*.tar.xz"))
    if not tarballs:
        raise RuntimeError("no /usr/src/linux-source-*.tar.xz (install linux-source)")
    dest.mkdir(parents=True, exist_ok=True)
    top = tarballs[-1].name[:-len(".tar.xz")]
    wanted = [f"{top}/scripts/{n}" for n in
              ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch")]
    subprocess.run(["tar", "-xJf", tarballs[-1], "-C", dest,
                    "--strip-components=1", *wanted], check=True)
    return script


def shell_scripts():
    found = [ROOT / "tests/e2e/guest/init"]
    for p in ROOT.rglob("*"):
        if ".cache" in p.parts or ".git" in p.parts or not p.is_file():
            continue
        if p.suffix == ".sh" or p.name == "run" and p.parent.name == ".ci":
            found.append(p)
    return sorted(set(found))


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, cwd=ROOT, **kw)
    return p.returncode, p.stdout


def checks():
    """Yield (name, failure or None)."""
    for kver in images.kernels():
        name = f"static/build-w1-sparse/{images.short(kver)}"
        try:
            _, log = images.build_module(kver, ("W=1", "C=2"))
            bad = [line for line in log.splitlines()
                   if re.search(r"warning|error", line, re.I)]
            yield name, "; ".join(bad[:5]) or None
        except subprocess.CalledProcessError as e:
            yield name, "build failed: " + e.stdout[-300:].replace("\n", " | ")

    try:
        cp = str(checkpatch())
        rc, out = run([cp, "--strict", "--no-tree", "--terse", "-f", *KERNEL_C])
        yield "static/checkpatch", None if rc == 0 else out.strip()[-500:]
        # compat.h must test LINUX_VERSION_CODE: see its header comment.
        rc, out = run([cp, "--strict", "--no-tree", "--terse",
                       "--ignore", "LINUX_VERSION_CODE,CONSTANT_COMPARISON,DEPRECATED_API",
                       "-f", "compat.h"])
        yield "static/checkpatch-compat", None if rc == 0 else out.strip()[-500:]
    except (RuntimeError, subprocess.CalledProcessError) as e:
        yield "static/checkpatch", str(e)

    if shutil.which("shellcheck"):
        # The shebang (or a shellcheck directive) says which shell.
        rc, out = run(["shellcheck", *map(str, shell_scripts())])
        yield "static/shellcheck", None if rc == 0 else out.strip()[-500:]
    else:
        yield "static/shellcheck", "shellcheck not installed"

    if shutil.which("cppcheck"):
        rc, out = run(["cppcheck", "--quiet", "--error-exitcode=1",
                       "--enable=warning,style,performance,portability",
                       "--inline-suppr", "-I", ".", "-I", "tests/include",
                       *[f for f in USER_C if (ROOT / f).exists()]])
        missing = [f for f in USER_C if not (ROOT / f).exists()]
        yield "static/cppcheck", (out.strip()[-500:] if rc else None) or \
            (f"missing {missing}" if missing else None)
    else:
        yield "static/cppcheck", "cppcheck not installed"


def main():
    passed = failed = 0
    for name, failure in checks():
        if failure:
            failed += 1
            print(f"FAIL {name}: {failure}", flush=True)
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
