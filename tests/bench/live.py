"""make bench's live part: what a live boot through MEMDISK costs.

One live ISO with a real-sized root (a Debian minbase plus a few
packages, an xz squashfs of ROOT_MIN_MIB or more), booted through real
MEMDISK ("iso raw") with live-boot (boot=live, no hint where the medium
is), the same kernel, RAM and vCPUs every time, four ways:

  memdisk       memdiskblk serves the ISO (the project's initramfs-tools
                hook and init-top script; no memdiskfind in the initramfs)
  memdisk+find  the same with syslinux-utils' memdiskfind in the
                initramfs too, as live-boot's hook puts it there whenever
                the package is installed (the boot only: its read would
                be memdisk's)
  phram         live-boot's own MEMDISK support: memdiskfind + phram +
                mtdblock (an initramfs without the project's files)
  toram         memdiskblk serves the ISO and live-boot's "toram" copies
                the medium into a tmpfs before it mounts the root

Each initramfs is Debian's mkinitramfs with live-boot, made as
tests/distro/live_cases.py makes its own (a private mount namespace). All
four ISOs hold the same squashfs; their size is a multiple of 4 KiB, as
phram needs (its erasesize is the page size when none is given, as
live-boot gives none). The root's /sbin/init (tests/bench/live-init)
marks its start in the kernel log and runs tests/bench/live-guest.sh
from the medium, which reports MemAvailable, the time to read every file
of the root once, one thread per vCPU (and what part of it the device,
the page cache and the decompression take) and powers off.

The root, its squashfs, the initramfs images and the ISOs are cached
under MDB_MATRIX_CACHE/livebench (default /var/cache/memdiskblk/livebench)
by a digest of what each is made from. The root is made with debootstrap
and apt from the Debian archive this machine's apt uses (tests/matrix.py
apt_mirror); the first build takes several minutes.
"""
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path[:0] = [str(TESTS / "lib"), str(TESTS / "distro"), str(TESTS)]

import images  # noqa: E402
import live_cases  # noqa: E402
import matrix  # noqa: E402

CACHE = Path(os.environ.get("MDB_MATRIX_CACHE", "/var/cache/memdiskblk")) / "livebench"
# The root: a minbase and a few packages a rescue or developer's live
# system carries, kernel and modules included (no recommends).
PACKAGES = ["linux-image-amd64", "python3", "perl", "gcc", "g++", "gdb",
            "git", "vim-nox", "clang"]
ROOT_MIN_MIB = 300
SQUASHFS_OPTS = ["-comp", "xz", "-noappend", "-quiet"]
LIVE_INIT = HERE / "live-init"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw).stdout


def codename():
    """The release this machine runs (the root is the same release)."""
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    raise RuntimeError("no VERSION_CODENAME in /etc/os-release")


def root_squashfs(log=print):
    """The live root's squashfs: debootstrap --variant=minbase, PACKAGES
    with apt (no recommends), apt's lists and archives removed, /sbin/init
    = live-init; xz like Debian's live images. Cached by a digest of the
    release, the packages, live-init and the squashfs options."""
    release = codename()
    key = live_cases.digest(release, *PACKAGES, LIVE_INIT, *SQUASHFS_OPTS)
    out = CACHE / f"root-{key}.squashfs"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    mirror, env = matrix.environment()
    tree = CACHE / f"tmp-root-{key}"
    if tree.exists():
        remove(tree)
    log(f"live: building the live root in {tree} (debootstrap, apt; minutes)")
    sh(["debootstrap", "--variant=minbase", release, str(tree), mirror], env=env)
    sh(["chroot", str(tree), "sh", "-ec",
        "apt-get update -q >/dev/null; apt-get install -y -q "
        f"--no-install-recommends {' '.join(PACKAGES)} >/dev/null; "
        "apt-get clean; rm -rf /var/lib/apt/lists/*"], env=env)
    shutil.copy(LIVE_INIT, tree / "sbin/init")
    (tree / "sbin/init").chmod(0o755)
    tmp = Path(str(out) + ".tmp")
    log("live: mksquashfs (xz; minutes)")
    sh(["nice", "-n", "10", "mksquashfs", str(tree), str(tmp), *SQUASHFS_OPTS])
    mib = tmp.stat().st_size >> 20
    if mib < ROOT_MIN_MIB:
        raise RuntimeError(f"live root squashfs is {mib} MiB, under "
                           f"{ROOT_MIN_MIB}: add packages to PACKAGES")
    tmp.rename(out)
    remove(tree)
    return out


# way: (initramfs, more kernel command line); see the docstring.
WAYS = {"memdisk": ("hook", ""),
        "memdisk+find": ("hook+find", "mdblive.read=0"),
        "phram": ("live-boot", ""),
        "toram": ("hook", "toram")}
# initramfs: live_cases.mkinitramfs arguments
INITRAMFS = {"hook": {"project": True, "memdiskfind": False},
             "hook+find": {"project": True, "memdiskfind": True},
             "live-boot": {"project": False, "memdiskfind": True}}
# What /run/live/medium must be mounted from, each way.
MEDIUM = {"memdisk": "/dev/memdisk0", "memdisk+find": "/dev/memdisk0",
          "phram": "/dev/mtdblock0", "toram": "tmpfs"}
GUEST_MIB = 3072
CPUS = 2
LABEL = "MDBLIVE"
GUEST_FILES = [HERE / "live-guest.sh", HERE / "mdbbench.c"]


def remove(path):
    """rm -rf that never leaves path's filesystem (a tree interrupted
    while debootstrap had /proc mounted in it), after unmounting what is
    mounted below it."""
    inside = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
              if line.split()[1].startswith(f"{path}/")]
    for mnt in sorted(inside, reverse=True):
        subprocess.run(["umount", "-l", mnt], check=False)
    sh(["rm", "-rf", "--one-file-system", str(path)])


def initramfs(kver, name):
    """Debian's mkinitramfs with live-boot, as tests/distro/live_cases.py
    makes it, INITRAMFS[name] saying with what; cached by a digest of
    live_cases' inputs (packages, the project's files, the module's
    sources), syslinux-utils' version and name."""
    _, versions = live_cases.run(["dpkg-query", "-W", "-f=${Version}",
                                  "syslinux-utils"], check=False)
    key = live_cases.digest(*live_cases.inputs(kver), versions, name)
    out = CACHE / f"initrd-{name}-{key}.img"
    live_cases.DIR.mkdir(parents=True, exist_ok=True)
    return live_cases.mkinitramfs(kver, key, out=out, **INITRAMFS[name])


def build(kver, cmdline, log=print):
    """{way: ISO} and the live root's squashfs: each ISO holds the same
    squashfs, its way's initramfs and command line, live-guest.sh and
    mdbbench; its size is a multiple of 4 KiB."""
    live_cases.need("unshare", "mksquashfs", "xorriso", "mkinitramfs",
                    "/lib/live/boot")
    if not Path("/usr/bin/memdiskfind").exists():
        raise RuntimeError("memdiskfind is missing (install syslinux-utils)")
    root = root_squashfs(log)
    tool = CACHE / "mdbbench"
    isos, keep = {}, {root.name, tool.name}
    for way, (name, extra) in WAYS.items():
        initrd = initramfs(kver, name)
        line = f"boot=live {cmdline} {extra}".strip()
        key = live_cases.digest(kver, root.name, initrd.name, line, *GUEST_FILES)
        iso = CACHE / f"iso-{way.replace('+', '-')}-{key}.iso"
        if not iso.exists():
            log(f"live: making {iso.name}")
            images.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-pthread",
                        "-o", str(tool), str(HERE / "mdbbench.c")])
            images.iso(iso, kver, initrd, line, {}, label=LABEL, tail=0, extra={
                "live/filesystem.squashfs": root,
                "bench/live-guest.sh": HERE / "live-guest.sh",
                "bench/mdbbench": tool})
        isos[way] = iso
        keep |= {initrd.name, iso.name}
    for old in CACHE.iterdir():  # made from other inputs
        if old.name not in keep and not old.name.startswith("tmp-"):
            remove(old)
    return isos, root


def spread(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": values}


def measure(kver, runs, cmdline, boot, log=print):
    """runs boots of each way, interleaved (way 1, 2, 3, 4, 1, 2, ...) so
    that the host's load drifts hit all ways alike. boot(name, iso, mem,
    cpus): the boot's "@@ bench.KEY" facts. Returns the live report."""
    isos, root = build(kver, cmdline, log)
    got = {way: [] for way in WAYS}
    for r in range(1, runs + 1):
        for way, iso in isos.items():
            log(f"live: boot {r}/{runs} {way}")
            facts = boot(f"live-{way.replace('+', '-')}-{r}", iso, GUEST_MIB, CPUS)
            check(way, facts)
            got[way].append(facts)
    res = {"kernel": kver, "guest_mib": GUEST_MIB, "vcpus": CPUS, "runs": runs,
           "squashfs_bytes": root.stat().st_size,
           "image_bytes": {w: iso.stat().st_size for w, iso in isos.items()},
           "packages": PACKAGES, "ways": {}}
    for way, boots in got.items():
        def vals(f, boots=boots):
            try:
                return spread([f(b) for b in boots])
            except KeyError:  # not read this way
                return None

        def ns(b, key):
            return int(b[key].split()[0]) / 1e9
        if "read.cold" in boots[0]:
            res["root_bytes"] = int(boots[0]["read.cold"].split()[1])
            res["root_files"] = int(boots[0]["read.cold.files"])
        res["ways"][way] = {
            "medium": boots[0]["medium"],
            "init_s": vals(lambda b: float(b["stamp.root"])),
            "initramfs_s": vals(lambda b: float(b["stamp.root"]) -
                                float(b["stamp.initramfs"])),
            "read_s": vals(lambda b: ns(b, "read.cold")),
            "warm_s": vals(lambda b: ns(b, "read.warm")),
            "device_s": vals(lambda b: ns(b, "read.device")),
            "decompress_s": vals(lambda b: ns(b, "read.cold") - ns(b, "read.warm")
                                 - ns(b, "read.device")),
            "mem_boot_mib": vals(lambda b: int(b["mem.boot"].split()[0]) / 1024),
            "mem_read_mib": vals(lambda b: int(b["mem.read"].split()[0]) / 1024),
            "memtotal_mib": vals(lambda b: int(b["mem.boot"].split()[1]) / 1024),
            "shmem_mib": vals(lambda b: int(b["mem.boot"].split()[2]) / 1024),
        }
    return res


def check(way, facts):
    """Each way is what it says: the medium's device, and which of
    memdiskblk and phram are loaded."""
    need = ["medium", "stamp.root", "stamp.initramfs", "mem.boot", "finished"]
    if "mdblive.read=0" not in WAYS[way][1]:
        need += ["mem.read", "read.cold", "read.warm", "read.device"]
    missing = [k for k in need
               if k not in facts or not facts[k] and k != "finished"]
    if missing:
        sys.exit(f"bench: live {way}: no {missing} in the guest's report")
    medium = facts["medium"].split()
    if MEDIUM[way] not in medium:
        sys.exit(f"bench: live {way}: medium is {medium}, not {MEDIUM[way]}")
    mods = facts.get("modules", "").split()
    want = {"phram": ("phram", "memdiskblk"), "memdisk+find": ("memdiskblk", "phram")}
    if way in want and (want[way][0] not in mods or want[way][1] in mods):
        sys.exit(f"bench: live {way}: modules loaded: {mods}")


def fmt(s, digits=1):
    if s is None:
        return "-"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


COLUMNS = [("init_s", "root init s", 1), ("read_s", "read root s", 1),
           ("device_s", "device s", 1), ("warm_s", "page cache s", 1),
           ("decompress_s", "decompress s", 1),
           ("mem_boot_mib", "MemAvail boot MiB", 0),
           ("mem_read_mib", "after read MiB", 0)]


def table(res):
    image = res["image_bytes"]["memdisk"]
    lines = [f"live boot: {image / 2**20:.0f} MiB ISO ({res['squashfs_bytes'] / 2**20:.0f}"
             f" MiB xz squashfs; root {res['root_bytes'] / 2**20:.0f} MiB in "
             f"{res['root_files']} files), kernel {res['kernel']}, "
             f"{res['guest_mib']} MiB RAM, {res['vcpus']} vCPUs (TCG), "
             f"median (min-max) of {res['runs']} boots each",
             f"{'':13}" + "".join(f"{h:>20}" for _, h, _ in COLUMNS)]
    for way, w in res["ways"].items():
        lines.append(f"{way:13}" + "".join(f"{fmt(w[k], d):>20}" for k, _, d in COLUMNS))
    return lines


def targets(res):
    w = res["ways"]
    image = res["image_bytes"]["memdisk"]

    def med(way, key):
        return w[way][key]["median"]
    out = []
    for way in ["memdisk", "memdisk+find"]:
        a, b = med(way, "init_s"), med("phram", "init_s")
        out.append({"target": f"live: {way} reaches the root's init no later than "
                    "phram (s)", "value": [round(a, 2), round(b, 2)], "met": a <= b})
    a, b = med("memdisk", "read_s"), med("phram", "read_s")
    out.append({"target": "live: memdisk reads the root no slower than phram (s)",
                "value": [round(a, 2), round(b, 2)], "met": a <= b})
    for key, when in [("mem_boot_mib", "after boot"), ("mem_read_mib", "after the read")]:
        more = (med("memdisk", key) - med("toram", key)) * 2**20 / image
        out.append({"target": "live: memdisk leaves >= 90 % of the image more "
                    f"MemAvailable than toram, {when}", "value": round(more, 3),
                    "met": more >= 0.9})
    return out


def chart(res, out):
    """live.png: time to the root's init, time to read the root (split
    into device, page cache and decompression), MemAvailable."""
    dat = out / "live.dat"
    ways = list(res["ways"])
    with open(dat, "w") as f:
        for i, way in enumerate(ways):
            w = res["ways"][way]
            f.write(f"{i} {way} " + " ".join(
                f"{w[k]['median']} {w[k]['min']} {w[k]['max']}" if w[k] else "NaN NaN NaN"
                for k in ["init_s", "read_s", "mem_boot_mib", "mem_read_mib",
                          "device_s", "warm_s", "decompress_s"]) + "\n")
    panels = [("time from kernel start to the root init (s, lower is better)", 3),
              ("time to read every file of the root once (s, lower is better)", 6),
              ("MemAvailable after boot (MiB, higher is better)", 9),
              ("MemAvailable after reading the root (MiB, higher is better)", 12)]
    plots = "".join(
        f"set title '{t}'\nplot '{dat}' using 1:{c}:xtic(2) with boxes "
        f"lc rgb '#4a7ebb' notitle, '' using 1:{c}:{c + 1}:{c + 2} with "
        "yerrorbars lc rgb 'black' pt 0 notitle\n" for t, c in panels)
    script = ("set terminal pngcairo size 1200,800 font 'sans,10' noenhanced\n"
              f"set output '{out / 'live.png'}'\n"
              "set multiplot layout 2,2 title 'a live boot through MEMDISK, "
              f"{res['image_bytes']['memdisk'] >> 20} MiB ISO, {res['vcpus']} vCPUs "
              f"under TCG (median, min-max of {res['runs']} boots)'\n"
              "set style fill solid 0.8\nset boxwidth 0.6\nset yrange [0:*]\n"
              f"set grid ytics\nset xrange [-0.5:{len(ways) - 0.5}]\n" + plots +
              "unset multiplot\n")
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    dat.unlink()


if __name__ == "__main__":
    if sys.argv[1:] == ["root"]:
        print(root_squashfs())
