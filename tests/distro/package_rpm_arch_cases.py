"""The RPM (packaging/rpm/memdiskblk-dkms.spec) and Arch (packaging/archlinux/PKGBUILD)
packages, built as a user builds them (`make rpm`, `make arch-pkg`) and as
the distributions' own tools do, from the release tarball alone
(`rpmbuild -ta TARBALL`; `rpmbuild -bb SPEC` with the tarball in SOURCES;
makepkg beside the tarball), with Debian's rpmbuild and makepkg, then
taken apart and checked: file list and modes, scriptlets or .PKGINFO, the
dependency on dkms, the payload against the tree, and one version
everywhere; and the PKGBUILD's checksum against the tarball of the
release's commit. Nothing is installed: neither rpm nor pacman manages
this Debian host. makepkg runs as the user nobody (scripts/build-package.sh
and as_builder() here); these cases check that nothing of the builds stays
behind on the host.

A missing rpmbuild or makepkg fails the cases (scripts/install-deps.sh
installs them)."""
import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from common import (CACHE, NAME, PACKAGE, ROOT, SOURCE_DIRS, SOURCES,
                    changelog_version, header_kernels, run, upstream_version)

WORK = CACHE / "rpm-arch"
RULE = "60-persistent-memdiskblk.rules"
ONLINE = "61-memdiskblk-online.rules"
HELPER = "memdiskblk-released"
DRACUT = ["memdiskblk-load.sh", "memdiskblk-release.sh", "module-setup.sh"]
DIR, FILE, EXE = "drwxr-xr-x", "-rw-r--r--", "-rwxr-xr-x"
# Host files a build must not change (no account is made for makepkg).
HOST_FILES = [Path(p) for p in ("/etc/passwd", "/etc/group", "/etc/shadow",
                                "/etc/gshadow", "/etc/subuid", "/etc/subgid")]
RPMQ_LOCK = threading.Lock()


class Built:
    rpm = None
    arch = None


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def host_state():
    """What a package build could leave on the host, outside its output."""
    state = {str(p): digest(p) for p in HOST_FILES}
    state["~/.rpmdb"] = (Path.home() / ".rpmdb").exists()
    pacman = Path("/var/lib/pacman")
    state["/var/lib/pacman"] = (sorted(str(p) for p in pacman.rglob("*"))
                                if pacman.exists() else None)
    return state


def build(c, target, tool):
    """Run `make -s TARGET PKGOUT=...` as a user would, with a private
    TMPDIR; return the package path or None. Checks the tool is there,
    that the build leaves no temporary files, accounts or databases, and
    that the output belongs to the user who ran make (root here)."""
    if not c.expect(shutil.which(tool), f"{tool} is installed "
                    "(scripts/install-deps.sh installs it)"):
        return None
    out = WORK / target
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    before = host_state()
    tmp = Path(tempfile.mkdtemp(prefix="mdb-pkg-"))
    try:
        tmp.chmod(0o755)  # nobody (makepkg) reaches its directory in it
        code, log = run(["make", "-s", target, f"PKGOUT={out}"], cwd=ROOT,
                        check=False, env=dict(os.environ, TMPDIR=str(tmp)))
        (WORK / f"{target}.log").write_text(log)
        c.eq(sorted(p.name for p in tmp.iterdir()), [],
             "the build's temporary directory was removed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not c.expect(code == 0, f"make {target} exited {code}: "
                    + " | ".join(log.strip().splitlines()[-5:])):
        return None
    c.eq(host_state(), before, "host files (accounts, ~/.rpmdb, "
         "/var/lib/pacman) unchanged")
    foreign = [p.name for p in out.iterdir() if p.stat().st_uid != os.geteuid()]
    c.eq(foreign, [], f"everything in PKGOUT belongs to uid {os.geteuid()}")
    return out


def same_files(c, got, want, what):
    """got and want map paths to modes: one check, whose failure names
    only what differs."""
    diff = ([f"missing {p}" for p in sorted(set(want) - set(got))] +
            [f"unexpected {p}" for p in sorted(set(got) - set(want))] +
            [f"{p} is {got[p]}, want {want[p]}" for p in sorted(set(got) & set(want))
             if got[p] != want[p]])
    return c.expect(not diff, f"{what}: {'; '.join(diff)}")


def payload_matches(c, root, ver, extra):
    """The unpacked package under root holds the tree's files byte for
    byte: the module's sources, dkms.conf with the version written over
    its placeholder, and extra {packaged path: tree path}."""
    usrsrc = root / f"usr/src/{NAME}-{ver}"
    for name in SOURCES:
        c.expect((usrsrc / name).read_bytes() == (ROOT / name).read_bytes(),
                 f"/usr/src/{NAME}-{ver}/{name} is the tree's")
    conf = (ROOT / "dkms.conf").read_text()
    c.expect('PACKAGE_VERSION="#MODULE_VERSION#"' in conf,
             "the tree's dkms.conf has the placeholder")
    c.eq((usrsrc / "dkms.conf").read_text(),
         conf.replace("#MODULE_VERSION#", ver),
         "packaged dkms.conf is the tree's with the version written in")
    for packaged, tree in extra.items():
        c.expect((root / packaged.lstrip("/")).read_bytes() ==
                 (ROOT / tree).read_bytes(), f"{packaged} is the tree's {tree}")


def rpmq(pkg, *args):
    """rpm -qp with a database of its own (Debian's rpm would make one in
    ~/.rpmdb), one query at a time (the cases run side by side)."""
    with RPMQ_LOCK:
        return run(["rpm", "--dbpath", str(WORK / "rpmdb"), "-qp", *args,
                    str(pkg)])[1]


def case_rpm(c, host):
    """`make rpm` builds memdiskblk-dkms-VERSION-1.noarch.rpm with
    rpmbuild: name, version from VERSION, release 1, noarch, licence
    GPL-2.0-only; exactly these files and modes: the sources and dkms.conf
    (version written in) under /usr/src/memdiskblk-VERSION (0644), the udev
    rule in /usr/lib/udev/rules.d (0644), the dracut module 90memdiskblk
    (0755 scripts), LICENSE, README and SECURITY as licence and docs, all
    root-owned; the payload is the tree's. %post runs dkms add, build and
    install of this version, in that order; %preun dkms remove --all of
    it; no other scriptlet. Requires dkms, also for %post and %preun."""
    up = upstream_version()
    out = build(c, "rpm", "rpmbuild")
    if out is None:
        return
    pkg = out / f"{PACKAGE}-{up}-1.noarch.rpm"
    if not c.expect(pkg.exists(), f"{pkg.name} built: {os.listdir(out)}"):
        return
    Built.rpm = pkg
    check_rpm(c, pkg, WORK / "rpm-root")


def check_rpm(c, pkg, unpacked):
    """rpm-build's checks of the RPM pkg, unpacked into unpacked."""
    up = upstream_version()
    c.eq(rpmq(pkg, "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}"),
         f"{PACKAGE} {up} 1 noarch GPL-2.0-only", "name version release arch licence")

    usrsrc = f"/usr/src/{NAME}-{up}"
    want = {usrsrc: DIR, **{f"{usrsrc}/{n}": FILE for n in SOURCES + ["dkms.conf"]},
            **{f"{usrsrc}/{d}": DIR for d in SOURCE_DIRS},
            f"/usr/lib/udev/rules.d/{RULE}": FILE,
            f"/usr/lib/udev/rules.d/{ONLINE}": FILE,
            f"/usr/lib/udev/{HELPER}": EXE,
            "/usr/lib/dracut": DIR, "/usr/lib/dracut/modules.d": DIR,
            "/usr/lib/dracut/modules.d/90memdiskblk": DIR,
            **{f"/usr/lib/dracut/modules.d/90memdiskblk/{n}": EXE for n in DRACUT},
            f"/usr/share/doc/{PACKAGE}": DIR,
            f"/usr/share/doc/{PACKAGE}/README.md": FILE,
            f"/usr/share/doc/{PACKAGE}/SECURITY.md": FILE,
            f"/usr/share/licenses/{PACKAGE}": DIR,
            f"/usr/share/licenses/{PACKAGE}/LICENSE": FILE}
    listed = {}
    for line in rpmq(pkg, "--qf", "[%{FILEMODES:perms} %{FILEUSERNAME}:"
                     "%{FILEGROUPNAME} %{FILENAMES}\n]").splitlines():
        perms, owner, path = line.split(" ", 2)
        listed[path] = perms
        c.eq(owner, "root:root", f"owner of {path}")
    same_files(c, listed, want, "files and modes")

    if unpacked.exists():
        shutil.rmtree(unpacked)
    unpacked.mkdir()
    run(["sh", "-c", f"rpm2cpio '{pkg}' | cpio -idm --quiet"], cwd=unpacked)
    payload_matches(c, unpacked, up, {
        f"/usr/lib/udev/rules.d/{RULE}": f"udev/{RULE}",
        f"/usr/lib/udev/rules.d/{ONLINE}": f"udev/{ONLINE}",
        f"/usr/lib/udev/{HELPER}": f"udev/{HELPER}",
        **{f"/usr/lib/dracut/modules.d/90memdiskblk/{n}": f"initramfs/dracut/90memdiskblk/{n}"
           for n in DRACUT},
        f"/usr/share/licenses/{PACKAGE}/LICENSE": "LICENSE"})

    progs = rpmq(pkg, "--qf", "%{PRETRANSPROG}|%{PREINPROG}|%{POSTINPROG}|"
                 "%{PREUNPROG}|%{POSTUNPROG}|%{POSTTRANSPROG}")
    c.eq(progs, "(none)|(none)|/bin/sh|/bin/sh|(none)|(none)",
         "scriptlets: %post and %preun only, both /bin/sh")
    mod = f"-m {NAME} -v {re.escape(up)}"
    post = [line for line in rpmq(pkg, "--qf", "%{POSTIN}").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    steps = [re.match(rf"^dkms (add|build|install) {mod}\b", line) for line in post]
    c.eq([m[1] if m else line for m, line in zip(steps, post)],
         ["add", "build", "install"], "%post: dkms add, build, install of this version")
    preun = [line for line in rpmq(pkg, "--qf", "%{PREUN}").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    c.expect(len(preun) == 1 and re.match(rf"^dkms remove {mod} --all\b", preun[0]),
             f"%preun: dkms remove --all of this version: {preun}")
    reqs = set(rpmq(pkg, "--qf", "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]")
               .splitlines())
    for kind in ("manual", "post", "preun"):
        c.expect(f"dkms {kind}" in reqs, f"requires dkms ({kind}): {sorted(reqs)}")


def pkginfo(text):
    """.PKGINFO as {key: [values]}."""
    info = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" = ")
            info.setdefault(key, []).append(value)
    return info


def case_arch(c, host):
    """`make arch-pkg` builds memdiskblk-dkms-VERSION-1-x86_64.pkg.tar.zst
    with makepkg (as the user nobody, since this runs as root; no account
    is made, and the host's accounts and /var/lib/pacman are unchanged).
    It holds exactly these entries and modes, all root-owned: .PKGINFO,
    .BUILDINFO, .MTREE (no .INSTALL: dkms's pacman hooks build and remove
    the module), the sources and dkms.conf (version written in) under
    /usr/src/memdiskblk-VERSION (0644), the mkinitcpio install and hook
    files in /usr/lib/initcpio/{install,hooks} (0644: mkinitcpio sources
    them), the udev rule in /usr/lib/udev/rules.d, README and SECURITY in
    /usr/share/doc; the payload is the tree's. .PKGINFO: pkgname
    memdiskblk-dkms, pkgver VERSION-1, arch x86_64, licence GPL-2.0-only,
    one dependency: dkms."""
    up = upstream_version()
    out = build(c, "arch-pkg", "makepkg")
    if out is None:
        return
    pkg = out / f"{PACKAGE}-{up}-1-x86_64.pkg.tar.zst"
    if not c.expect(pkg.exists(), f"{pkg.name} built: {os.listdir(out)}"):
        return
    Built.arch = pkg
    check_arch(c, pkg, WORK / "arch-root")


def check_arch(c, pkg, unpacked):
    """arch-pkg-build's checks of the package pkg, unpacked into
    unpacked."""
    up = upstream_version()
    usrsrc = f"usr/src/{NAME}-{up}"
    dirs = ["usr", "usr/lib", "usr/lib/initcpio", "usr/lib/initcpio/hooks",
            "usr/lib/initcpio/install", "usr/lib/udev", "usr/lib/udev/rules.d",
            "usr/share", "usr/share/doc", f"usr/share/doc/{PACKAGE}", "usr/src",
            usrsrc, *(f"{usrsrc}/{d}" for d in SOURCE_DIRS)]
    want = {**{d: DIR for d in dirs},
            ".PKGINFO": FILE, ".BUILDINFO": FILE, ".MTREE": FILE,
            **{f"{usrsrc}/{n}": FILE for n in SOURCES + ["dkms.conf"]},
            "usr/lib/initcpio/install/memdiskblk": FILE,
            "usr/lib/initcpio/hooks/memdiskblk": FILE,
            f"usr/lib/udev/rules.d/{RULE}": FILE,
            f"usr/lib/udev/rules.d/{ONLINE}": FILE,
            f"usr/lib/udev/{HELPER}": EXE,
            f"usr/share/doc/{PACKAGE}/README.md": FILE,
            f"usr/share/doc/{PACKAGE}/SECURITY.md": FILE}
    listed = {}
    for line in run(["tar", "--zstd", "-tvf", str(pkg)])[1].splitlines():
        fields = line.split()
        path = fields[-1].rstrip("/")
        listed[path] = fields[0]
        c.eq(fields[1], "root/root", f"owner of {path}")
    same_files(c, listed, want, "entries and modes")

    if unpacked.exists():
        shutil.rmtree(unpacked)
    unpacked.mkdir()
    run(["tar", "--zstd", "-xf", str(pkg), "-C", str(unpacked)])
    payload_matches(c, unpacked, up, {
        "/usr/lib/initcpio/install/memdiskblk": "initramfs/mkinitcpio/install/memdiskblk",
        "/usr/lib/initcpio/hooks/memdiskblk": "initramfs/mkinitcpio/hooks/memdiskblk",
        f"/usr/lib/udev/rules.d/{RULE}": f"udev/{RULE}",
        f"/usr/lib/udev/rules.d/{ONLINE}": f"udev/{ONLINE}",
        f"/usr/lib/udev/{HELPER}": f"udev/{HELPER}"})

    info = pkginfo((unpacked / ".PKGINFO").read_text())
    for key, value in [("pkgname", [PACKAGE]), ("pkgver", [f"{up}-1"]),
                       ("arch", ["x86_64"]), ("license", ["GPL-2.0-only"]),
                       ("depend", ["dkms"])]:
        c.eq(info.get(key), value, f".PKGINFO {key}")


def case_version(c, host):
    """One version everywhere, from VERSION: it is one line Kbuild accepts;
    debian/changelog's top entry is VERSION-REVISION, and debian/rules
    refuses to build when they differ (tried on a copy); the RPM's and the
    Arch package's versions and /usr/src directories say VERSION. Both
    packages carry the same /usr/src tree (no debian/ in it), and the
    module built from it as DKMS builds it (make -C KDIR M=DIR modules)
    shows VERSION in `modinfo -F version` for every kernel with headers
    (6.1 and 6.12 here); nothing is loaded."""
    up = upstream_version()
    c.expect(re.fullmatch(r"[0-9A-Za-z.+~]+", up),
             f"VERSION is one line Kbuild accepts: {up!r}")
    c.eq(changelog_version().rsplit("-", 1)[0], up,
         "debian/changelog's top entry without the revision")

    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        copy = Path(tmp)
        for name in ["VERSION", "debian/changelog", "debian/rules"]:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
        rule = ["make", "-s", "-f", "debian/rules", "override_dh_auto_configure"]
        code, log = run(rule, cwd=copy, check=False)
        c.expect(code == 0, f"debian/rules accepts the matching VERSION: {log!r}")
        (copy / "VERSION").write_text(up + ".1\n")
        code, log = run(rule, cwd=copy, check=False)
        c.expect(code != 0 and "VERSION says" in log,
                 f"debian/rules refuses a VERSION the changelog lacks: {log!r}")

    if not c.expect(Built.rpm and Built.arch, "both packages were built"):
        return
    c.eq(rpmq(Built.rpm, "--qf", "%{VERSION}"), up, "RPM version")
    trees = {}
    for kind in ("rpm", "arch"):
        usrsrc = WORK / f"{kind}-root" / f"usr/src/{NAME}-{up}"
        c.expect(usrsrc.is_dir(), f"{kind}: /usr/src/{NAME}-{up}")
        trees[kind] = {p.relative_to(usrsrc).as_posix(): p.read_bytes()
                       for p in usrsrc.rglob("*") if p.is_file()}
    c.expect(trees["rpm"] == trees["arch"],
             "the RPM and the Arch package carry the same /usr/src tree")
    c.eq(sorted(trees["rpm"]), sorted(SOURCES + ["dkms.conf"]),
         "the /usr/src tree: sources and dkms.conf, no debian/")
    c.expect(f'PACKAGE_VERSION="{up}"' in trees["rpm"].get("dkms.conf", b"").decode(),
             "its dkms.conf says the version")

    kvers = header_kernels()
    c.expect(len(kvers) >= 2, f"kernels with headers: {kvers} (want 6.1 and 6.12)")
    for kver in kvers:
        build_dir = WORK / f"module-{kver}"
        if build_dir.exists():
            shutil.rmtree(build_dir)
        shutil.copytree(WORK / "rpm-root" / f"usr/src/{NAME}-{up}", build_dir)
        code, log = run(["nice", "-n", "10", "make", "-C",
                         f"/lib/modules/{kver}/build", f"M={build_dir}", "modules"],
                        check=False)
        if not c.expect(code == 0, f"{kver}: build from the package's "
                        f"/usr/src failed: {log.strip()[-300:]}"):
            continue
        shown = run(["modinfo", "-F", "version", str(build_dir / f"{NAME}.ko")])[1]
        c.eq(shown.strip(), up, f"{kver}: modinfo -F version")
        shutil.rmtree(build_dir)
    c.note(f"{up} on {', '.join(kvers)}")


# The packages built as the distributions' own tools build them: from the
# release tarball `make dist` makes, with rpmbuild or makepkg and nothing
# of the project's (no make target, no script).

SPEC = ROOT / "packaging/rpm/memdiskblk-dkms.spec"
PKGBUILD = ROOT / "packaging/archlinux/PKGBUILD"
SUM = re.compile(r"^sha256sums=\('([0-9a-f]{64})'\)$", re.M)


def fresh(name):
    """WORK/name, empty, reachable by nobody (makepkg)."""
    where = WORK / name
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    where.chmod(0o755)
    return where


def dist(c, where, tree=ROOT):
    """`make dist` of tree into where; the tarball's path, or None."""
    code, log = run(["make", "-s", "-C", str(tree), "dist", f"PKGOUT={where}"],
                    check=False)
    tarball = where / f"{NAME}-{upstream_version()}.tar.gz"
    if not c.expect(code == 0 and tarball.exists(), f"make dist: {log[-300:]!r}"):
        return None
    return tarball


def tool_env(home):
    """The environment rpmbuild and makepkg run in: nothing of this
    one's but PATH, and a HOME of their own (~/rpmbuild, ~/.rpmdb)."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def as_builder(cmd, cwd):
    """cmd in cwd, as makepkg must run: as the user nobody (no account is
    made) when this runs as root, which makepkg refuses; (status, output)."""
    env = dict(tool_env(cwd), PKGEXT=".pkg.tar.zst")
    if os.geteuid() != 0:
        return run(cmd, cwd=cwd, env=env, check=False)
    run(["chown", "-R", "nobody", str(cwd)])
    gid = run(["id", "-g", "nobody"])[1].strip()
    return run(["setpriv", "--reuid=nobody", f"--regid={gid}", "--clear-groups",
                "env", "-i", *[f"{k}={v}" for k, v in env.items()], *cmd],
               cwd=cwd, check=False)


def tarball_files(tarball):
    return sorted(run(["tar", "-tzf", str(tarball)])[1].split())


def case_rpm_ta(c, host):
    """`rpmbuild -ta memdiskblk-VERSION.tar.gz`, rpmbuild alone on the
    tarball `make dist` made (HOME a fresh directory: no option, no
    project file but the tarball), builds the source RPM, holding only
    the tarball and the spec, and a binary RPM passing every check of
    rpm-build (files, modes, payload, scriptlets, requirements). The
    tarball carries the spec, and not the PKGBUILD (which carries the
    tarball's checksum); nothing stays behind on the host."""
    up = upstream_version()
    home = fresh("rpm-ta")
    tarball = dist(c, home)
    if tarball is None:
        return
    files = tarball_files(tarball)
    c.expect(f"{NAME}-{up}/packaging/rpm/memdiskblk-dkms.spec" in files,
             f"the tarball carries the spec: {files}")
    c.expect(not any(f.startswith(f"{NAME}-{up}/packaging/archlinux/") for f in files),
             f"the tarball carries no PKGBUILD: {files}")
    before = host_state()
    code, log = run(["rpmbuild", "-ta", tarball.name], cwd=home,
                    env=tool_env(home), check=False)
    (WORK / "rpm-ta.log").write_text(log)
    if not c.expect(code == 0, f"rpmbuild -ta exited {code}: "
                    + " | ".join(log.strip().splitlines()[-5:])):
        return
    c.eq(host_state(), before, "host files (~/.rpmdb and the rest) unchanged")
    srpm = home / f"rpmbuild/SRPMS/{PACKAGE}-{up}-1.src.rpm"
    pkg = home / f"rpmbuild/RPMS/noarch/{PACKAGE}-{up}-1.noarch.rpm"
    if not c.expect(srpm.exists() and pkg.exists(),
                    f"{srpm.name} and {pkg.name} built"):
        return
    c.eq(sorted(rpmq(srpm, "--qf", "[%{FILENAMES}\n]").split()),
         sorted([tarball.name, SPEC.name]), "the source RPM's files")
    check_rpm(c, pkg, home / "root")


def case_rpm_spec(c, host):
    """`rpmbuild -bb memdiskblk-dkms.spec` with the tarball `make dist`
    made in ~/rpmbuild/SOURCES (HOME a fresh directory), as COPR, OBS and
    Fedora's dist-git build a spec: the spec needs nothing else (no
    --define), and the RPM passes every check of rpm-build."""
    up = upstream_version()
    home = fresh("rpm-spec")
    sources = home / "rpmbuild/SOURCES"
    sources.mkdir(parents=True)
    if dist(c, sources) is None:
        return
    shutil.copy2(SPEC, home / SPEC.name)
    code, log = run(["rpmbuild", "-bb", SPEC.name], cwd=home,
                    env=tool_env(home), check=False)
    (WORK / "rpm-spec.log").write_text(log)
    if not c.expect(code == 0, f"rpmbuild -bb exited {code}: "
                    + " | ".join(log.strip().splitlines()[-5:])):
        return
    pkg = home / f"rpmbuild/RPMS/noarch/{PACKAGE}-{up}-1.noarch.rpm"
    if c.expect(pkg.exists(), f"{pkg.name} built"):
        check_rpm(c, pkg, home / "root")


def case_arch_makepkg(c, host):
    """makepkg in a directory holding only the PKGBUILD and the tarball
    `make dist` made (as the user nobody with an empty environment, since
    this runs as root and makepkg refuses root; --nodeps, as pacman knows
    no dkms on Debian) builds a package passing every check of
    arch-pkg-build, after makepkg checked the tarball's sha256: against
    the PKGBUILD's own checksum when this tree makes the release's tarball;
    when the tree changed since the release, against the checksum
    `makepkg -g` gives for this tarball, written into this copy of the
    PKGBUILD (a note says so; arch-release-checksum checks the release's)."""
    up = upstream_version()
    where = fresh("arch-makepkg")
    tarball = dist(c, where)
    if tarball is None:
        return
    text = PKGBUILD.read_text()
    m = SUM.search(text)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if not c.expect(m, "the PKGBUILD carries a sha256 (not SKIP)"):
        return
    (where / "PKGBUILD").write_text(text)
    c.eq(sorted(p.name for p in where.iterdir()), sorted(["PKGBUILD", tarball.name]),
         "the directory holds the PKGBUILD and the tarball alone")
    if m[1] != digest:
        code, out = as_builder(["makepkg", "-g"], where)
        got = SUM.search(out)
        if not c.expect(code == 0 and got, f"makepkg -g: {out[-300:]!r}"):
            return
        c.eq(got[1], digest, "makepkg -g's checksum")
        (where / "PKGBUILD").write_text(SUM.sub(got[0], text))
        c.note("the tree changed since the release: makepkg -g's checksum")
    else:
        c.note("the release's tarball and checksum")
    before = host_state()
    code, log = as_builder(["makepkg", "--nodeps", "--noconfirm",
                            "--noprogressbar"], where)
    (WORK / "arch-makepkg.log").write_text(log)
    if not c.expect(code == 0, f"makepkg exited {code}: "
                    + " | ".join(log.strip().splitlines()[-5:])):
        return
    c.eq(host_state(), before, "host files (accounts, /var/lib/pacman) unchanged")
    c.expect(re.search(r"Validating source files with sha256sums\.\.\.\n\s*"
                       rf"{re.escape(tarball.name)} \.\.\. Passed", log),
             "makepkg checked the tarball's sha256")
    pkg = where / f"{PACKAGE}-{up}-1-x86_64.pkg.tar.zst"
    if c.expect(pkg.exists(), f"{pkg.name} built"):
        check_arch(c, pkg, WORK / "arch-makepkg-root")


def case_release_checksum(c, host):
    """The PKGBUILD's sha256 is that of the tarball `make dist` makes from
    the release's commit, whenever and wherever that commit is checked
    out: the commit that wrote the checksum (git log -S), exported afresh
    (git archive) into a directory of its own, where `make dist` gives a
    tarball with that sha256. A checksum not committed yet (make release
    just ran) must be that of this tree's tarball. A note says whether
    this tree still makes the release's tarball."""
    m = SUM.search(PKGBUILD.read_text())
    if not c.expect(m, "the PKGBUILD carries a sha256 (not SKIP)"):
        return
    code, _ = run(["git", "-C", str(ROOT), "rev-parse"], check=False)
    if code:
        c.skip("not a git checkout")
        return
    rel = "packaging/archlinux/PKGBUILD"
    commit = run(["git", "-C", str(ROOT), "log", "-1", "--format=%H", "-S", m[1],
                  "--", rel])[1].strip()
    committed = commit and m[1] in run(["git", "-C", str(ROOT), "show",
                                        f"HEAD:{rel}"], check=False)[1]
    where = fresh("release-checksum")
    if committed:
        tree = where / "tree"
        tree.mkdir()
        run(["sh", "-c", f"git -C '{ROOT}' archive {commit} | tar -xf - -C '{tree}'"])
        tarball = dist(c, where, tree)
        c.note(f"release commit {commit[:12]}")
    else:
        tarball = dist(c, where)
        c.note("checksum not committed yet: this tree's tarball")
    if tarball is None:
        return
    c.eq(hashlib.sha256(tarball.read_bytes()).hexdigest(), m[1],
         "sha256 of the release's tarball")
    if committed:
        here = dist(c, fresh("release-checksum-head"))
        if here is not None and here.read_bytes() != tarball.read_bytes():
            c.note("this tree changed since")


CASES = [("rpm-build", case_rpm), ("arch-pkg-build", case_arch),
         ("rpm-arch-version", case_version), ("rpm-build-ta", case_rpm_ta),
         ("rpm-build-spec", case_rpm_spec), ("arch-makepkg", case_arch_makepkg),
         ("arch-release-checksum", case_release_checksum)]
