"""shellcheck on every shell file the project ships or runs: files with a
shell #! line (sh, bash, dash, ash, busybox sh), *.sh files, and the files
that are shell without a #! line (dkms.conf, sourced by dkms as bash;
the PKGBUILD, sourced by makepkg)."""
import re

from common import ROOT, run, tree_files

SHEBANG = re.compile(r"^#!\s*(?:/usr)?/bin/(?:env\s+)?(sh|bash|dash|ash|busybox\s+sh)\b")
SHELL_WITHOUT_SHEBANG = {"dkms.conf": "bash", "packaging/archlinux/PKGBUILD": "bash"}


def shell_files():
    """{path: dialect for shellcheck, or None to let the file say}."""
    found = {}
    for rel in tree_files():
        path = ROOT / rel
        if rel in SHELL_WITHOUT_SHEBANG:
            found[rel] = SHELL_WITHOUT_SHEBANG[rel]
            continue
        try:
            with open(path, "rb") as f:
                first = f.readline(200).decode("utf-8", "replace")
                head = first + f.read(2000).decode("utf-8", "replace")
        except OSError:
            continue
        m = SHEBANG.match(first)
        if not m and not rel.endswith(".sh"):
            continue
        # shellcheck knows no ash: such files say "shellcheck shell=" or
        # are checked as POSIX sh (busybox ash is POSIX sh plus "local").
        if m and m[1] in ("ash", "busybox sh") and "shellcheck shell=" not in head:
            found[rel] = "sh"
        else:
            found[rel] = None
    return found


def case_shellcheck(c, host):
    """shellcheck reports nothing for any shell file in the tree (the
    mkinitcpio, initramfs-tools and dracut files, dkms.conf, scripts/,
    the test guests and harnesses)."""
    files = shell_files()
    for want in ["dkms.conf", "packaging/archlinux/PKGBUILD",
                 "scripts/build-package.sh",
                 "initramfs/mkinitcpio/hooks/memdiskblk",
                 "initramfs/mkinitcpio/install/memdiskblk"]:
        c.expect(want in files, f"{want} is checked")
    for dialect in sorted(set(files.values()), key=str):
        group = sorted(f for f, d in files.items() if d == dialect)
        code, out = run(["shellcheck", *(["-s", dialect] if dialect else []),
                         *group], cwd=ROOT, check=False)
        c.expect(code == 0, f"shellcheck: {out.strip()[-600:]}")
    c.note(f"{len(files)} files")


CASES = [("shellcheck", case_shellcheck)]
