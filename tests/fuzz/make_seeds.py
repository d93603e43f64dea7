#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpus of tests/fuzz/fuzz_scan.c into tests/fuzz/corpus/.

Each seed is in the fuzzer's input format (see fuzz_scan.c):
  u16 base memory KiB, u32 INT 13h vector, u8 range count,
  count x (u32 start, u32 length, u8 type: 0 RAM, 1 reserved),
  u8 max images, then low memory ending at 0xA0000.
The tables and hooks are laid out as memdiskblk.h defines them (through
tests/lib/layout.py; docs/memdisk-tables.md describes them). Standard
library and a C compiler only; the output is deterministic.
"""
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from layout import layout  # noqa: E402

L = layout()
LOWMEM_END = 0xA0000
BIOS_INT13 = 0xF000E3FE            # F000:E3FE
IMG = 0x7000000
RAM, RESERVED = 0, 1
SIG = L.const["mbft_signature"].encode()
# 77772020-2e77-6576-6e74-6f792e6e6574 as EFI stores a GUID.
VENTOY_GUID = b"  www.ventoy.net"
G4D_ENTRY = L.const["g4d_entry"]
G4D_MAP_OFF = L.const["g4d_map_off"]


def far(phys):
    """Real-mode far pointer (segment high, offset low) to phys < 1 MiB."""
    return (phys >> 4) << 16 | (phys & 15)


class Window:
    """Low memory [base, 0xA0000); writes past 0xA0000 are dropped."""

    def __init__(self, base):
        self.base = base
        self.mem = bytearray(LOWMEM_END - base)

    def put(self, addr, data):
        for i, b in enumerate(data):
            if addr + i < LOWMEM_END:
                self.mem[addr + i - self.base] = b

    def get(self, addr, n):
        return bytes(self.mem[max(addr - self.base, 0):addr - self.base + n])

    def mbft(self, t, diskbuf, sectors, shift=9, driveno=0x80, flags=0,
             hook=0, cmdline=None):
        """A MEMDISK 6.04 mBFT (a whole MDI, then the patch area) at t."""
        cmd = 0
        if cmdline is not None:
            addr, text = cmdline
            self.put(addr, text.encode() + b"\0")
            cmd = far(addr)
        table = bytearray(L.size("mbft"))
        for path, value in [
                ("mbft.signature", L.const["mbft_signature"].encode()),
                ("mbft.length", L.size("mbft")),
                ("mbft.revision", 1),
                ("mbft.oem_id", b"MEMDSK"),
                ("mbft.oem_table_id", b"Syslinux"),
                ("mbft.safe_hook", hook),
                ("mbft.mdi.bytes", L.size("mdi")),
                ("mbft.mdi.version_minor", 4),
                ("mbft.mdi.version_major", 6),
                ("mbft.mdi.diskbuf", diskbuf),
                ("mbft.mdi.disksize", sectors),
                ("mbft.mdi.cmdline", cmd),
                ("mbft.mdi.sector_shift", shift)]:
            L.put(table, 0, path, value)
        L.put(table, 0, "mbft.checksum", -sum(table) & 0xFF)
        self.put(t, table)
        patch = bytearray(L.size("patch"))
        L.put(patch, 0, "patch.driveno", driveno)
        L.put(patch, 0, "patch.configflags", flags)
        self.put(t + L.size("mbft"), patch)

    def hook(self, h, prev, mbft=0, vendor=L.const["hook_vendor"].encode()):
        hook = bytearray(L.size("hook"))
        L.put(hook, 0, "hook.jump", b"\xeb\x1e\x90")      # jmp short
        L.put(hook, 0, "hook.signature", L.const["hook_signature"].encode())
        L.put(hook, 0, "hook.vendor", vendor)
        L.put(hook, 0, "hook.prev", prev)
        L.put(hook, 0, "hook.mbft", mbft)
        self.put(h, hook)


    def g4d_slot(self, table, i, start, count, frm=0x80, flags=0x8000):
        """Slot i of a GRUB4DOS drive map at table: a RAM drive."""
        slot = bytearray(L.size("g4d_slot"))
        for path, value in [("g4d_slot.from_drive", frm),
                            ("g4d_slot.to_drive", 0xFF),
                            ("g4d_slot.to_cylinder", flags),
                            ("g4d_slot.start_sector", start),
                            ("g4d_slot.sector_count", count)]:
            L.put(slot, 0, path, value)
        self.put(table + i * len(slot), slot)


def typical_map(base):
    return [(0x1000, base - 0x1000, RAM), (base, LOWMEM_END - base, RESERVED),
            (0x100000, IMG - 0x100000, RAM), (IMG, 0x1000000, RESERVED)]


def seed(win, vector, ranges=None, max_images=8, basemem=None):
    out = struct.pack("<HIB", win.base // 1024 if basemem is None else basemem,
                      vector,
                      len(ranges if ranges is not None else
                          typical_map(win.base)))
    for start, length, kind in (ranges if ranges is not None else
                                typical_map(win.base)):
        out += struct.pack("<IIB", start, length, kind)
    return out + bytes([max_images]) + bytes(win.mem)


def ventoy(alloc, size, attrs=6):
    """fuzz_scan.c's Ventoy tail: the variable (the ISO's address behind
    Ventoy's head, DiskSize as Ventoy computes it), its attributes and
    size, then a header with Ventoy's GUID, the ISO's size and a checksum."""
    head = L.const["ventoy_head_len"]
    param = bytearray(L.size("ventoy_param"))
    L.put(param, 0, "ventoy_param.guid", VENTOY_GUID)
    L.put(param, 0, "ventoy_param.img_size", size)
    L.put(param, 0, "ventoy_param.checksum", -sum(param) & 0xFF)
    return struct.pack("<QQII", alloc + head, size - head, attrs, 16) + param


def seeds():
    # One MEMDISK, as under QEMU: resident at 0x9f000, vector 9f00:000a.
    w = Window(0x9F000)
    w.mbft(0x9F0A0, IMG, 2048, hook=0x9F00A,
           cmdline=(0x9F200, "initrd=disk.img harddisk"))
    w.hook(0x9F00A, BIOS_INT13, 0x9F0A0)
    yield "single_hook", seed(w, far(0x9F00A))

    # An El Torito ISO, read-only flag set.
    w = Window(0x9F000)
    w.mbft(0x9F0A0, IMG, 3, shift=11, driveno=0xE0, flags=1, hook=0x9F00A,
           cmdline=(0x9F200, "iso raw ro"))
    w.hook(0x9F00A, BIOS_INT13, 0x9F0A0)
    yield "iso_ro", seed(w, far(0x9F00A))

    # Chained MEMDISK: inner at 0x9e400 -> outer at 0x9f000 -> BIOS.
    w = Window(0x9E000)
    w.mbft(0x9F160, IMG, 2048, hook=0x9F00A, cmdline=(0x9F400, "iso raw"))
    w.hook(0x9F00A, BIOS_INT13, 0x9F160)
    w.mbft(0x9E560, IMG + 0x800000, 3, shift=11, driveno=0xE0,
           hook=0x9E40A, cmdline=(0x9E800, "initrd=inner.iso iso"))
    w.hook(0x9E40A, far(0x9F00A), 0x9E560)
    yield "chained", seed(w, far(0x9E40A))

    # A looping chain: MEMDISK hook A -> other hook B -> A.
    w = Window(0x9F000)
    w.mbft(0x9F0A0, IMG, 2048, hook=0x9F00A)
    w.hook(0x9F00A, far(0x9F800), 0x9F0A0)
    w.hook(0x9F800, far(0x9F00A), 0, vendor=b"GRUB4DOS")
    yield "loop", seed(w, far(0x9F00A))

    # A table cut off by the end of low memory, reached by scan and hook.
    w = Window(0x9F000)
    w.mbft(LOWMEM_END - 48, IMG, 2048, hook=0x9F00A)
    w.hook(0x9F00A, BIOS_INT13, LOWMEM_END - 48)
    yield "truncated", seed(w, far(0x9F00A))

    # Seventeen chained safe hooks, one more than the walk follows.
    w = Window(0x9F000)
    for i in range(17):
        h = 0x9F400 + i * 0x30
        w.hook(h, far(h + 0x30) if i < 16 else BIOS_INT13, 0,
               vendor=b"OTHER   ")
    yield "long_chain", seed(w, far(0x9F400))

    # Ten tables, more than the eight images allowed.
    w = Window(0x9C000)
    for i in range(10):
        w.mbft(0x9C000 + i * 0x100, IMG + i * 0x100000, 2048)
    yield "many_tables", seed(w, BIOS_INT13)

    # One table for each reason to refuse one, in one window.
    w = Window(0x9C000)
    w.mbft(0x9C000, IMG, 2048)                      # valid
    w.mbft(0x9C100, IMG + 0x80000, 2048)            # overlaps the first
    w.mbft(0x9C200, 0x80000, 16)                    # below 1 MiB
    w.mbft(0x9C300, 0xFFFFF000, 16)                 # past 4 GiB
    w.mbft(0x9C400, IMG - 0x1000, 2048)             # touches System RAM
    w.mbft(0x9C500, IMG, 0)                         # empty
    w.mbft(0x9C600, IMG + 0x200000, 2048, shift=10)  # bad sector size
    w.mbft(0x9C700, IMG + 0x300000, 2048)
    w.put(0x9C700 + L.off("mbft.checksum"), b"\x00")    # bad checksum
    w.mbft(0x9C800, IMG + 0x400000, 2048)
    w.put(0x9C800 + L.off("mbft.mdi.bytes"), b"\x1f")   # MDI size 31
    w.put(0x9C900, SIG)                             # implausible length
    w.put(0x9C900 + L.off("mbft.length"), b"\xff" * 4)
    w.mbft(0x9CA00, IMG + 0x500000, 2048, shift=0)  # shift 0: 512
    ranges = [(0x1000, 0x9B000, RAM), (0x9B000, 0x2000, RESERVED),
              (0x9D000, 0x3000, RESERVED), (0x100000, IMG - 0x100000, RAM),
              (IMG, 0x100000, RESERVED), (IMG + 0x100000, 0xF00000, RESERVED)]
    yield "refusals", seed(w, BIOS_INT13, ranges)

    # Forty bare signatures, more than the 32 candidate tables looked at.
    w = Window(0x9C000)
    for i in range(40):
        w.put(0x9C000 + i * 0x80, SIG)
    w.mbft(0x9F0A0, IMG, 2048, hook=0x9F00A)
    w.hook(0x9F00A, BIOS_INT13, 0x9F0A0)
    yield "signatures", seed(w, far(0x9F00A))

    # Ventoy's memdisk mode under UEFI, as seen: the head + ISO allocation
    # reserved, the variable pointing behind the head, at the input's end.
    yield "ventoy", seed(Window(0x9F000), BIOS_INT13, [
        (0x1000, 0x9E000, RAM), (0x100000, 0x5C364000, RAM),
        (0x5C464000, 0x1000000, RESERVED)]) + ventoy(0x5C464000, 0x800000)

    # GRUB4DOS under SeaBIOS, as seen: handler at 0x9cc00 (627 KiB), the
    # vector at its entry 9cc0:0100, a CD and a disk in RAM.
    w = Window(0x9C000)
    entry = 0x9CC00 + G4D_ENTRY
    w.hook(entry, BIOS_INT13, vendor=b"GRUB4DOS")
    w.g4d_slot(entry - G4D_MAP_OFF, 0, IMG >> 9, 3816, frm=0xFF,
               flags=0x8000 | 0x2000)
    w.g4d_slot(entry - G4D_MAP_OFF, 1, (IMG >> 9) + 0x1000, 2048)
    yield "g4d_bios", seed(w, 0x9CC0 << 16 | G4D_ENTRY, basemem=627)

    # a1ive's GRUB2 under UEFI (map --mem --rt): the page at 0x9f000, no
    # BIOS data area (the image goes above 4 GiB there; the seed's map
    # cannot say so).
    w = Window(0x90000)
    w.put(0x9F000 + G4D_MAP_OFF + 3, b"$INT13SFGRUB4DOS")
    w.g4d_slot(0x9F000, 0, IMG >> 9, 3812, flags=0x2000)
    yield "g4d_efi", seed(w, 0, [(0x1000, 0x8F000, RAM),
                                 (0x90000, 0x10000, RESERVED),
                                 (0x100000, IMG - 0x100000, RAM),
                                 (IMG, 0x1000000, RESERVED)], basemem=0)

    # A valid image= parameter in the first 64 bytes.
    yield "param", b"0x7000000,16M,ro\n\0"


def main():
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent / "corpus"
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (dest / name).write_bytes(data)
        print(f"{dest / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
