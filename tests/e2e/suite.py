"""What the end-to-end cases share: finding them, the kernel they run on,
and the checks several of them make.

A case is one file, tests/e2e/cases/NAME.py:

    '''What the case asserts (printed by tests/e2e/run.py --list).'''
    GUEST = '''shell the guest runs (busybox sh, after tests/e2e/guest/init
    set up the guest and defined say, report_dev, try_write, ...)'''

    def test(k, c):
        # build the image (k.iso, k.harddisk, ...), boot it (k.boot),
        # then assert on what the guest said: c.eq(b.get("key"), ...)

Optional: SLOTS (one per guest vCPU, default 1), COST (expected
seconds, so long cases start first), CASES = {"NAME-variant": function}
instead of test, for variants sharing one guest script, and
PREPARE(k), run once per kernel before them (its result is c.prepared),
ONLY = "debug" for a case that needs that part's kernel (lockdown),
NEWEST = True for one the e2e part runs on its newest kernel only.
The guest runs GUEST when its kernel command line says mdbtest=NAME (the
k.iso/k.harddisk helpers put it there).
"""
import importlib.util
import re
from pathlib import Path

import images
from boot import boot
from harness import CACHE, Job

CASES_DIR = Path(__file__).resolve().parent / "cases"


class CaseFile:
    """One tests/e2e/cases/NAME.py."""

    def __init__(self, path):
        self.name = path.stem
        spec = importlib.util.spec_from_file_location(
            "case_" + self.name.replace("-", "_"), path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        self.guest = mod.GUEST
        self.doc = (mod.__doc__ or "").strip()
        self.slots = getattr(mod, "SLOTS", 1)
        self.cost = getattr(mod, "COST", 20)
        self.variants = getattr(mod, "CASES", None) or {self.name: mod.test}
        self.prepare = getattr(mod, "PREPARE", None)
        self.only = getattr(mod, "ONLY", None)
        self.newest = getattr(mod, "NEWEST", False)


def case_files():
    return [CaseFile(p) for p in sorted(CASES_DIR.glob("*.py"))]


class Kernel:
    """What every case on one kernel shares: the module, the initramfs
    holding every case's guest script, a directory for images."""

    def __init__(self, kver, label, files):
        self.kver = kver
        self.label = label          # e.g. "e2e-6.1": names logs and images
        self.ko, self.build_log = images.build_module(kver)
        self.initrd = images.initramfs(
            kver, self.ko, cases={f.name: f.guest for f in files})
        self.dir = CACHE / "img" / label
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files = images.data_files(kver)

    def cmdline(self, c, extra=""):
        return f"mdbtest={c.guest} {extra}".strip()

    def iso(self, c, extra="", big=0, name=None, files=None):
        """An ISO booting this kernel into c's guest script."""
        return images.iso(self.dir / f"{name or c.name}.iso", self.kver,
                          self.initrd, self.cmdline(c, extra),
                          self.files if files is None else files, big=big)

    def harddisk(self, c, extra="", files=None, mbr=None, name=None,
                 initrd=None, size=0):
        return images.harddisk(self.dir / f"{name or c.name}.img", self.kver,
                               initrd or self.initrd, self.cmdline(c, extra),
                               files or {}, mbr=mbr, size=size)

    def floppy(self, c, extra="", files=None, initrd=None):
        return images.floppy(self.dir / f"{c.name}.img", self.kver,
                             initrd or self.initrd, self.cmdline(c, extra),
                             files or {})

    def boot(self, c, **kw):
        return boot(f"{self.label}-{c.name}", **kw)


def jobs(prefix, kver, files, wrap=None, skip=(), needs=(), newest=True):
    """One setup job (module + initramfs) and one job per case for the
    kernel kver (or a function returning it, called once the jobs in
    needs are done), labelled PREFIX/NAME. wrap(k, c, func) may run a case
    and add checks of its own (the debug kernel's checkers). newest=False:
    a part's older kernel, which runs no NEWEST case."""
    holder = {}
    label = prefix.replace("/", "-")

    def setup(c):
        holder["k"] = Kernel(kver() if callable(kver) else kver, label, files)

    setup_job = Job(f"{prefix}/setup", setup, needs=needs, cost=30, quiet=True)
    out = []
    for f in files:
        if f.only and f.only != prefix.split("/")[0] or \
                f.newest and not newest:
            continue
        wanted = [(n, func) for n, func in f.variants.items() if n not in skip]
        needs = [setup_job]
        if wanted and f.prepare:
            needs = [Job(f"{prefix}/{f.name}-prepare",
                         _preparer(holder, f), needs=needs, quiet=True)]
            out += needs
        out += [Job(f"{prefix}/{name}", _runner(holder, f, func, wrap),
                    needs=needs, slots=f.slots, cost=f.cost)
                for name, func in wanted]
    return [setup_job] + out if out else []


def _preparer(holder, f):
    def run(c):
        holder[f.name] = f.prepare(holder["k"])
    return run


def _runner(holder, f, func, wrap):
    def run(c):
        c.guest = f.name
        c.prepared = holder.get(f.name)
        if wrap:
            wrap(holder["k"], c, func)
        else:
            func(holder["k"], c)
    return run


# ---- checks several cases make -------------------------------------------

def check_dev(c, b, dev, image_path, sector, readonly, drive, args):
    """The device is the image byte for byte and sysfs describes it."""
    size = image_path.stat().st_size
    c.eq(b.get(f"{dev}.present"), "1", f"/dev/{dev} exists")
    c.eq(b.get(f"{dev}.crc32"), images.crc32_file(image_path),
         f"{dev} CRC-32 equals the image's")
    c.eq(b.get(f"{dev}.sysfs.size"), str(size), "sysfs size")
    c.eq(b.get(f"{dev}.sysfs.sector_size"), str(sector), "sysfs sector_size")
    c.eq(b.get(f"{dev}.pbs"), str(sector), "physical block size")
    c.eq(b.get(f"{dev}.lbs"), "512", "logical block size")
    c.expect(b.get(f"{dev}.scheduler", "").startswith("[none]"), "no I/O scheduler")
    c.eq(b.get(f"{dev}.iostats"), "0", "no I/O statistics unless asked for")
    c.eq(b.get(f"{dev}.sysfs.readonly"), str(int(readonly)), "sysfs readonly")
    c.eq(b.get(f"{dev}.ro"), str(int(readonly)), "block layer ro flag")
    c.eq(b.get(f"{dev}.sysfs.drive"), drive, "sysfs drive")
    c.eq(b.get(f"{dev}.sysfs.cmdline"), args, "sysfs cmdline (MEMDISK's)")
    c.expect(re.fullmatch(r"\d+\.\d\d", b.get(f"{dev}.sysfs.version", "")),
             "sysfs version looks like N.NN")
    c.expect(re.fullmatch(r"0x[0-9a-f]+", b.get(f"{dev}.sysfs.mbft", "")),
             "sysfs mbft is an address")


def check_write_refused(c, b, dev):
    """try_write: both writes fail and the image is unchanged."""
    c.expect(b.get(f"{dev}.write_rc") not in (None, "0"), "buffered write fails")
    c.expect(b.get(f"{dev}.write_direct_rc") not in (None, "0"),
             "direct write with the ro flag cleared fails")
    c.eq(b.get(f"{dev}.unchanged"), "1", "image unchanged after writes")


BLOB = b"blob" * 1000   # /data/blob on the writable images


def check_rw(c, b, img, drive, fs):
    """rw_checks: a writable device whose filesystem keeps what is
    written, with defined results at the end of the device."""
    c.eq(b.get("modprobe"), "0", "modprobe succeeds")
    c.eq(b.get("memdisk0.crc32"), images.crc32_file(img),
         "memdisk0 CRC-32 equals the image's")
    c.eq(b.get("memdisk0.sysfs.readonly"), "0", "writable")
    c.eq(b.get("memdisk0.ro"), "0", "block layer ro flag clear")
    c.eq(b.get("memdisk0.sysfs.sector_size"), "512", "512-byte sectors")
    c.eq(b.get("memdisk0.sysfs.drive"), drive, f"BIOS drive {drive}")
    c.eq(b.get("fs.present"), "1", f"{fs} exists")
    c.eq(b.get("fs.mount"), "ok", f"{fs} mounts")
    c.eq(b.get("fs.orig"), images.hashlib.sha256(BLOB).hexdigest(),
         "file on the filesystem checksum")
    c.eq(b.get("fs.readback"), "1", "written file reads back")
    c.eq(b.get("fs.persist"), "1", "written file survives module reload")
    c.eq(b.get("last.read"), "512", "the last sector reads")
    c.eq(b.get("past.read"), "0", "nothing reads past the end")
    c.expect(b.get("past.write") not in (None, "0"), "a write past the end fails")
