#!/usr/bin/env python3
"""make kernel-patch: the driver as a patch series for a kernel source tree.

    kernel-patch.py --ksrc DIR [--out DIR]

Writes a `git format-patch` series (a cover letter and the patches) that
adds memdiskblk to the kernel tree in DIR: the driver in
drivers/block/memdisk/, its Kconfig entry and Makefile line, and its
documentation. The series is generated from the module's own files, never
edited by hand:

- compat.h is resolved for the tree's version (VERSION and PATCHLEVEL of
  its Makefile): every #if on LINUX_VERSION_CODE is decided, a compat name
  that stands for one expression (a macro, or an inline function whose
  body is one statement) is replaced at its call sites by that expression,
  so the driver calls the tree's own APIs, and what remains (structures,
  helpers of several statements) moves into the driver right before its
  first user. Nothing of compat.h reaches the series.
- Every other top-level .c and .h file is copied as it is; Kbuild's object
  list becomes the directory's Makefile.
- upstream/ holds what only the kernel tree needs: the Kconfig entry, the
  documentation, and the cover letter and commit messages.

From and Signed-off-by are the git identity (user.name, user.email) of
whoever runs this: the series is theirs to post. Dates come from the
newest commit of this checkout, so the same sources give the same series.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "upstream"
DIR = "drivers/block/memdisk"
CONFIG = "BLK_DEV_MEMDISK"
DOC = "Documentation/admin-guide/blockdev/memdiskblk.rst"
ABI = "Documentation/ABI/testing/sysfs-block-memdisk"


class GenError(Exception):
    pass


# ---- the tree ------------------------------------------------------------

def tree_version(ksrc):
    """(version, patchlevel, sublevel) from the tree's top Makefile."""
    text = (ksrc / "Makefile").read_text()
    nums = []
    for var in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"^{var}\s*=\s*(\d*)", text, re.M)
        if not m:
            raise GenError(f"{ksrc}/Makefile has no {var}")
        nums.append(int(m.group(1) or 0))
    return tuple(nums)


def version_code(v):
    return (v[0] << 16) + (v[1] << 8) + min(v[2], 255)


# ---- C text ---------------------------------------------------------------

TOKEN = re.compile(r"""
  (?P<comment>/\*.*?\*/|//[^\n]*)
 |(?P<string>"(?:\\.|[^"\\\n])*")
 |(?P<char>'(?:\\.|[^'\\\n])*')
 |(?P<ident>[A-Za-z_]\w*)
 |(?P<number>\.?\d(?:[eEpP][-+]|[\w.])*)
 |(?P<ws>\s+)
 |(?P<punct>\.\.\.|->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=
    |[-+*/%&|^!~<>=?:;,.(){}\[\]\#\\])
""", re.S | re.X)


class Tok:
    __slots__ = ("kind", "text", "new")

    def __init__(self, kind, text, new=False):
        self.kind, self.text, self.new = kind, text, new

    def __repr__(self):
        return f"{self.kind}:{self.text!r}"


def lex(text):
    toks, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise GenError(f"cannot lex {text[pos:pos + 40]!r}")
        toks.append(Tok(m.lastgroup, m.group()))
        pos = m.end()
    return toks


def join(toks):
    return "".join(t.text for t in toks)


def significant(toks):
    return [t for t in toks if t.kind not in ("ws", "comment")]


def matching(toks, i, open_="(", close=")"):
    """Index of the token closing the bracket at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == open_:
            depth += 1
        elif toks[j].text == close:
            depth -= 1
            if depth == 0:
                return j
    raise GenError(f"unbalanced {open_!r} in {join(toks[i:i + 20])!r}")


def split_args(toks):
    """Top-level comma-separated pieces of a token list."""
    args, cur, depth = [], [], 0
    for t in toks:
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        if t.text == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur or args:
        args.append(cur)
    return args


# Operators below postfix precedence: an expression holding one of these at
# its top level needs parentheses where it replaces an operand.
LOW_OPS = set("+ - * / % & | ^ ! ~ < > = ? : , << >> <= >= == != && || "
              "+= -= *= /= %= &= |= ^= <<= >>=".split())


def needs_parens(toks):
    depth = 0
    sig = significant(toks)
    for n, t in enumerate(sig):
        if t.text in "([":
            depth += 1
        elif t.text in ")]":
            depth -= 1
        elif depth == 0 and t.text in LOW_OPS:
            return True
        elif depth == 0 and t.kind == "ident" and n and \
                sig[n - 1].kind == "ident" and t.text != "sizeof":
            return True  # a cast or a declaration, not an operand
    return False


# ---- preprocessor conditionals on the kernel version ----------------------

def decided(expr):
    """Does this #if test something the tree decides: its version, or
    __KERNEL__ (always defined in the tree)?"""
    return "LINUX_VERSION_CODE" in expr or "__KERNEL__" in expr


def eval_version(expr, code, kernel=True):
    e = re.sub(r"KERNEL_VERSION\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)",
               lambda m: str(version_code(tuple(map(int, m.groups())))), expr)
    e = e.replace("LINUX_VERSION_CODE", str(code))
    e = re.sub(r"defined\s*\(?\s*__KERNEL__\s*\)?", str(int(kernel)), e)
    e = re.sub(r"/\*.*?\*/", " ", e)
    if not re.fullmatch(r"[\d\s()<>=!&|]*", e):
        raise GenError(f"cannot evaluate #if {expr.strip()}")
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    return bool(eval(e, {"__builtins__": {}}))  # digits and operators only


def resolve_versions(text, code, name, kernel=True):
    """Keep what the tree's version compiles (with __KERNEL__ defined, or
    not for kernel=False: what userspace builds of a shared header see);
    drop the tests the tree decides."""
    out, stack = [], []  # stack: [decided, active, taken]
    for line in text.split("\n"):
        m = re.match(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", line)
        active = all(s[1] for s in stack)
        if not m:
            if active:
                out.append(line)
            continue
        kw, rest = m.groups()
        if kw in ("ifdef", "ifndef") and rest.split()[:1] == ["__KERNEL__"]:
            v = kernel == (kw == "ifdef")
            stack.append([True, v, v])
            continue
        if kw in ("if", "ifdef", "ifndef"):
            if kw == "if" and decided(rest):
                v = eval_version(rest, code, kernel)
                stack.append([True, v, v])
                continue
            stack.append([False, True, True])
        elif not stack:
            raise GenError(f"{name}: #{kw} without #if")
        elif kw == "elif" and stack[-1][0]:
            s = stack[-1]
            s[1] = not s[2] and eval_version(rest, code, kernel)
            s[2] = s[2] or s[1]
            continue
        elif kw == "elif" and decided(rest):
            raise GenError(f"{name}: version #elif after another test")
        elif kw == "else" and stack[-1][0]:
            stack[-1][1] = not stack[-1][2]
            continue
        elif kw == "endif":
            if stack.pop()[0]:
                continue
        if active:
            out.append(line)
    if stack:
        raise GenError(f"{name}: unterminated #if")
    return "\n".join(out)


# ---- compat.h, resolved ---------------------------------------------------

class Alias:
    """A compat name that stands for one expression."""

    def __init__(self, name, params, body):
        self.name, self.params, self.body = name, params, body

    def expand(self, args):
        if self.params is None:
            return [Tok(t.kind, t.text, True) for t in self.body]
        if len(args) != len(self.params):
            raise GenError(f"{self.name}: {len(args)} arguments, "
                           f"{len(self.params)} expected")
        bind = dict(zip(self.params, args))
        out = []
        body = self.body
        for n, t in enumerate(body):
            if t.kind == "ident" and t.text in bind:
                arg = strip_ws([a for a in bind[t.text] if a.kind != "comment"])
                prev = prev_sig(body, n)
                nxt = next_sig(body, n)
                alone = (prev in ("(", ",") and nxt in (")", ","))
                if not alone and (needs_parens(arg) or
                                  any(a.text in ("&", "*") for a in
                                      significant(arg)[:1])):
                    arg = [Tok("punct", "(")] + arg + [Tok("punct", ")")]
                out += [Tok(a.kind, a.text, True) for a in arg]
            else:
                out.append(Tok(t.kind, t.text, True))
        return out


def strip_ws(toks):
    while toks and toks[0].kind == "ws":
        toks = toks[1:]
    while toks and toks[-1].kind == "ws":
        toks = toks[:-1]
    return toks


def prev_sig(toks, n):
    for t in reversed(toks[:n]):
        if t.kind not in ("ws", "comment"):
            return t.text
    return None


def next_sig(toks, n):
    for t in toks[n + 1:]:
        if t.kind not in ("ws", "comment"):
            return t.text
    return None


class Compat:
    """compat.h as the tree's version sees it: aliases, includes, and the
    items (structures, functions) that move into the driver."""

    def __init__(self, text):
        self.aliases = {}
        self.includes = []
        self.items = []  # (name, text)
        self.functions = {}  # one-statement functions: name -> text
        self._parse(text)

    def _parse(self, text):
        toks = lex(text)
        i = 0
        guard = None
        while i < len(toks):
            t = toks[i]
            if t.kind in ("ws", "comment"):
                i += 1
                continue
            if t.text == "#":
                j = i
                while j < len(toks) and not (toks[j].kind == "ws" and "\n" in toks[j].text
                                             and toks[j - 1].text != "\\"):
                    j += 1
                self._directive(toks[i:j], guard)
                if guard is None:
                    m = re.match(r"#\s*ifndef\s+(\w+)", join(toks[i:j]))
                    guard = m and m.group(1)
                i = j
                continue
            # A declaration or a definition: up to ';' or a closing brace at
            # depth 0 (then an optional ';', for structures).
            j, depth = i, 0
            while j < len(toks):
                if toks[j].text == "{":
                    depth += 1
                elif toks[j].text == "}":
                    depth -= 1
                    if depth == 0:
                        k = j + 1
                        while k < len(toks) and toks[k].kind == "ws":
                            k += 1
                        j = k if k < len(toks) and toks[k].text == ";" else j
                        break
                elif toks[j].text == ";" and depth == 0:
                    break
                j += 1
            self._item(toks[i:j + 1])
            i = j + 1

    def _directive(self, toks, guard):
        text = join(toks)
        m = re.match(r"#\s*(\w+)\s*(.*)", text, re.S)
        kw, rest = m.group(1), m.group(2)
        if kw in ("ifndef", "endif") or (kw == "define" and rest.strip() == guard):
            return
        if kw == "include":
            if "linux/version.h" not in rest:
                self.includes.append(rest.strip())
            return
        if kw != "define":
            raise GenError(f"compat.h: cannot move {text.strip()!r} in-tree")
        body = [t for t in toks if t.text != "\\"]
        sig = significant(body)
        name = sig[2].text  # '#', 'define', NAME
        k = body.index(sig[2]) + 1
        params = None
        if k < len(body) and body[k].text == "(":  # function-like
            close = matching(body, k)
            params = [significant(a)[0].text for a in split_args(body[k + 1:close])]
            k = close + 1
        expr = strip_ws(body[k:])
        if any(t.text in (";", "{") for t in expr):
            raise GenError(f"compat.h: macro {name} is not one expression")
        self.aliases[name] = Alias(name, params, expr)

    def _item(self, toks):
        sig = significant(toks)
        text = join(strip_ws(toks))
        if sig[0].text == "struct" and sig[2].text == "{":
            self.items.append((sig[1].text, text))
            return
        # A prototype (a function compat.h's helpers call before the
        # driver defines it): the driver's definition comes before the
        # helper's place in-tree, in front of its first user.
        if sig[-1].text == ";" and not any(t.text == "{" for t in sig):
            return
        # A function: [static] [inline] TYPE NAME ( PARAMS ) { BODY }
        try:
            open_ = next(n for n, t in enumerate(toks) if t.text == "(")
            close = matching(toks, open_)
            brace = next(n for n in range(close, len(toks)) if toks[n].text == "{")
        except (StopIteration, GenError):
            raise GenError(f"compat.h: cannot move {text[:60]!r} in-tree")
        name = prev_sig(toks, open_)
        params = []
        for a in split_args(toks[open_ + 1:close]):
            ids = [t.text for t in significant(a) if t.kind == "ident"]
            if ids and ids != ["void"]:
                params.append(ids[-1])
        body = toks[brace + 1:matching(toks, brace, "{", "}")]
        stmt = significant(body)
        semis = [t for t in stmt if t.text in (";", "{")]
        if len(semis) == 1 and stmt and stmt[-1].text == ";":
            expr = strip_ws([t for t in body[:max(n for n, t in enumerate(body)
                                                  if t.text == ";")]
                             if t.kind != "comment"])
            if expr and expr[0].text == "return":
                expr = strip_ws(expr[1:])
            self.aliases[name] = Alias(name, params, expr)
            # Should the driver take its address (an ops table), it stays
            # a function (see driver_files()).
            self.functions[name] = realign(re.sub(r"^static\s+inline\s+",
                                                  "static ", text))
            return
        self.items.append((name, realign(re.sub(r"^static\s+inline\s+",
                                                "static ", text))))


def realign(text):
    """Continuation lines of a function's parameters under its '(' again
    (dropping "inline" moved it), indented with tabs, then spaces."""
    lines = text.split("\n")
    head = next((n for n, ln in enumerate(lines) if "(" in ln), None)
    if head is None or ")" in lines[head]:
        return text
    col = len(lines[head][:lines[head].index("(") + 1].expandtabs(8))
    for n in range(head + 1, len(lines)):
        lines[n] = "\t" * (col // 8) + " " * (col % 8) + lines[n].lstrip()
        if ")" in lines[n]:
            break
    return "\n".join(lines)


def substitute(text, aliases):
    """Replace every use of an alias in code (not comments or strings)."""
    toks = lex(text)
    for _ in range(8):  # aliases may use aliases; a few rounds settle it
        changed = False
        out, i = [], 0
        while i < len(toks):
            t = toks[i]
            a = aliases.get(t.text) if t.kind == "ident" else None
            if a is None:
                out.append(t)
                i += 1
                continue
            changed = True
            if a.params is None:
                exp, end = a.expand(None), i + 1
            else:
                k = i + 1
                while k < len(toks) and toks[k].kind == "ws":
                    k += 1
                if k >= len(toks) or toks[k].text != "(":
                    raise GenError(f"{a.name} used without a call")
                close = matching(toks, k)
                args = split_args(toks[k + 1:close])
                exp, end = a.expand(args), close + 1
            prev = prev_sig(out, len(out))
            nxt = next_sig(toks, end - 1)
            safe = (prev in ("(", ",", "=", "return", ";", "{", "}") and
                    nxt in (")", ",", ";"))
            if needs_parens(exp) and not safe:
                exp = [Tok("punct", "(", True)] + exp + [Tok("punct", ")", True)]
            out += exp
            i = end
        toks = out
        if not changed:
            break
    return join(drop_zero_or(toks))


def drop_zero_or(toks):
    """An alias that became 0 in "A | B" (a flag the tree no longer has)
    goes, with its operator."""
    out = list(toks)
    n = 0
    while n < len(out):
        t = out[n]
        if t.new and t.kind == "number" and t.text == "0":
            sig = [k for k in range(len(out)) if out[k].kind not in ("ws", "comment")]
            pos = sig.index(n)
            after = sig[pos + 1] if pos + 1 < len(sig) else None
            before = sig[pos - 1] if pos else None
            if after is not None and out[after].text == "|":
                end = after + 1
                while end < len(out) and out[end].kind == "ws":
                    end += 1
                del out[n:end]
                continue
            if before is not None and out[before].text == "|":
                start = before
                while start > 0 and out[start - 1].kind == "ws":
                    start -= 1
                del out[start:n + 1]
                n = start
                continue
        n += 1
    return out


def top_level_ends(text):
    """Offsets just after each top-level item of a C file (a ';' or '}' at
    depth 0 ending its line, or a preprocessor line)."""
    ends, depth, pos = [], 0, 0
    for t in lex(text):
        start = pos
        pos += len(t.text)
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        if depth == 0 and t.text in (";", "}"):
            ends.append(pos)
        elif depth == 0 and t.kind == "punct" and t.text == "#" and \
                (start == 0 or text[start - 1] == "\n"):
            ends.append(text.index("\n", start) if "\n" in text[start:] else len(text))
    return ends


def first_use(text, name):
    pos = 0
    for t in lex(text):
        if t.kind == "ident" and t.text == name:
            return pos
        pos += len(t.text)
    return None


def used_as_value(text, name):
    """Is name used in code other than called?"""
    toks = [t for t in lex(strip_comments(text)) if t.kind not in ("ws", "comment")]
    return any(t.kind == "ident" and t.text == name and
               (n + 1 == len(toks) or toks[n + 1].text != "(")
               for n, t in enumerate(toks))


def place_items(text, items, aliases):
    """Each compat item, right before the top-level definition that first
    uses it."""
    for name, item in items:
        item = substitute(item, aliases)
        use = first_use(text, name)
        if use is None:
            continue  # not needed on this tree
        before = [e for e in top_level_ends(text) if e <= use]
        at = before[-1] if before else 0
        # After the previous item's line: a blank line, the item, and the
        # blank line that separated the two items stays below it.
        at = text.index("\n", at) + 1 if "\n" in text[at:] else len(text)
        text = text[:at] + "\n" + item + "\n" + text[at:]
    return text


def include_key(inc):
    """<linux/...> first, then <asm/...>, then the rest, each sorted."""
    inc = inc.strip()
    return ({"<linux/": 0, "<asm/": 1}.get(inc[:inc.find("/") + 1], 2), inc)


def add_includes(text, includes):
    have = set(re.findall(r"^#include\s+(\S+)", text, re.M))
    for inc in includes:
        if inc in have:
            continue
        lines = text.split("\n")
        idx = [n for n, ln in enumerate(lines) if re.match(r"#include\s+<", ln)]
        if not idx:
            raise GenError(f"no #include <...> block for {inc}")
        pos = next((n for n in idx if include_key(lines[n][9:]) > include_key(inc)),
                   idx[-1] + 1)
        lines.insert(pos, f"#include {inc}")
        text = "\n".join(lines)
    return text


# ---- the in-tree files ------------------------------------------------------

def project_includes(text):
    return re.findall(r'^#include\s+"([^"]+)"', text, re.M)


def system_includes(text):
    return set(re.findall(r"^#include\s+(<[^>]+>)", text, re.M))


def driver_files(version):
    """{path in the tree: text} for drivers/block/memdisk/."""
    code = version_code(version)
    raw = (ROOT / "compat.h").read_text()
    compat = Compat(resolve_versions(raw, code, "compat.h"))
    # What a shared header needs of compat.h: its part for every build.
    shared = Compat(resolve_versions(raw, code, "compat.h", kernel=False))
    sources = sorted((p for p in ROOT.iterdir()
                      if p.suffix in (".c", ".h") and p.name != "compat.h"),
                     key=lambda p: (p.suffix != ".h", p.name))
    texts = {}
    for src in sources:
        text = resolve_versions(src.read_text(), code, src.name)
        if "compat.h" in project_includes(text):
            # The line goes, and with it the blank line of its group.
            text = re.sub(r'\n\n#include\s+"compat\.h"\n(?=\n)', "\n", text)
            text = re.sub(r'^#include\s+"compat\.h"\n', "", text, flags=re.M)
            if src.suffix == ".h":
                text = add_includes(text, shared.includes)
            else:
                have = system_includes(text)
                for h in project_includes(text):
                    have |= system_includes(texts.get(h, ""))
                text = add_includes(text, [i for i in compat.includes
                                           if i not in have])
        texts[src.name] = text
    # A one-statement helper whose address the driver takes (.open = NAME)
    # cannot become its expression: it stays a function.
    for name, text in compat.functions.items():
        if any(used_as_value(t, name) for t in texts.values()):
            del compat.aliases[name]
            compat.items.append((name, text))
    # What compat.h keeps for this tree moves in front of its first user,
    # in the first .c file that uses it.
    for name, item in compat.items:
        users = [f for f in texts if f.endswith(".c") and first_use(texts[f], name)]
        if users:
            texts[users[0]] = place_items(texts[users[0]], [(name, item)],
                                          compat.aliases)
    files = {}
    for fname, text in texts.items():
        text = substitute(text, compat.aliases)
        left = [w for w in ("compat.h", "LINUX_VERSION_CODE", "KERNEL_VERSION",
                            *compat.aliases) if re.search(rf"\b{re.escape(w)}\b",
                                                          strip_comments(text))]
        if left:
            raise GenError(f"{fname}: still uses {left} after resolution")
        files[f"{DIR}/{fname}"] = text
    files[f"{DIR}/Makefile"] = kbuild_makefile()
    files[f"{DIR}/Kconfig"] = (UPSTREAM / "Kconfig").read_text()
    return files


def strip_comments(text):
    return "".join(t.text for t in lex(text) if t.kind not in ("comment", "string"))


def kbuild_makefile():
    """Kbuild's object lines, with obj-m made conditional on the option."""
    out = ["# SPDX-License-Identifier: GPL-2.0"]
    for line in (ROOT / "Kbuild").read_text().splitlines():
        m = re.match(r"\s*obj-m\s*[:+]?=\s*(.+)", line)
        if m:
            out.append(f"obj-$(CONFIG_{CONFIG})\t+= {m.group(1).strip()}")
        elif re.match(r"\s*\w+-(y|objs)\s*[:+]?=", line):
            out.append(line.strip())
    if len(out) < 2:
        raise GenError("Kbuild has no obj-m line")
    return "\n".join(out) + "\n"


def insert_after(text, anchor, new, what):
    m = re.search(anchor, text, re.M)
    if not m:
        raise GenError(f"{what}: anchor {anchor!r} not found")
    at = text.index("\n", m.end()) + 1
    return text[:at] + new + text[at:]


def insert_before(text, anchor, new, what):
    m = re.search(anchor, text, re.M)
    if not m:
        raise GenError(f"{what}: anchor {anchor!r} not found")
    return text[:m.start()] + new + text[m.start():]


def tree_edits(ksrc):
    """The lines the series adds to the tree's own files."""
    kconfig = (ksrc / "drivers/block/Kconfig").read_text()
    # Next to the RAM disk, the other driver for a disk in memory.
    kconfig = insert_before(kconfig, r"^config BLK_DEV_RAM$",
                            f'source "{DIR}/Kconfig"\n\n', "drivers/block/Kconfig")
    makefile = (ksrc / "drivers/block/Makefile").read_text()
    makefile = insert_after(makefile, r"^obj-\$\(CONFIG_BLK_DEV_RAM\)\s",
                            f"obj-$(CONFIG_{CONFIG})\t+= memdisk/\n",
                            "drivers/block/Makefile")
    index_path = "Documentation/admin-guide/blockdev/index.rst"
    index = (ksrc / index_path).read_text()
    page = Path(DOC).stem
    lines = index.split("\n")
    entries = [n for n, ln in enumerate(lines) if re.fullmatch(r"   [a-z][\w-]*", ln)]
    if not entries:
        raise GenError(f"{index_path}: no toctree entries")
    pos = next((n for n in entries if lines[n].strip() > page), entries[-1] + 1)
    lines.insert(pos, f"   {page}")
    return {
        "drivers/block/Kconfig": kconfig,
        "drivers/block/Makefile": makefile,
        index_path: "\n".join(lines),
    }


# ---- the series ---------------------------------------------------------------

def fill(text, version, date):
    """@KVER@: the tree's version; @DATE@: the month of the sources."""
    month = time.strftime("%B %Y", time.gmtime(int(date[1:].split()[0])))
    return text.replace("@KVER@", "%d.%d" % version[:2]).replace("@DATE@", month)


def message(name, version, date):
    """upstream/NAME: a subject line, a blank line, the body; lines
    starting with '#' are notes for whoever edits the file."""
    text = (UPSTREAM / name).read_text()
    text = "\n".join(ln for ln in text.split("\n") if not ln.startswith("#"))
    return fill(text.strip(), version, date) + "\n"


def git(repo, *args, env=None, check=True):
    p = subprocess.run(["git", "-C", str(repo), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env)
    if check and p.returncode:
        raise GenError(f"git {' '.join(args)}: {p.stdout.strip()}")
    return p.stdout


def identity():
    name = git(ROOT, "config", "user.name", check=False).strip()
    email = git(ROOT, "config", "user.email", check=False).strip()
    if not name or not email:
        raise GenError("no git identity: the series is signed off by whoever "
                       "generates it (git config user.name, user.email)")
    return name, email


def commit_date():
    date = os.environ.get("SOURCE_DATE_EPOCH")
    if date:
        return f"@{date} +0000"
    out = git(ROOT, "log", "-1", "--format=%ad", "--date=raw", check=False).strip()
    return f"@{out}" if re.fullmatch(r"\d+ [-+]\d{4}", out) else "@0 +0000"


def generate(ksrc, out):
    ksrc, out = Path(ksrc).resolve(), Path(out).resolve()
    version = tree_version(ksrc)
    name, email = identity()
    date = commit_date()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    driver = driver_files(version)
    edits = tree_edits(ksrc)
    docs = {DOC: fill((UPSTREAM / "memdiskblk.rst").read_text(), version, date),
            ABI: fill((UPSTREAM / "sysfs-block-memdisk").read_text(), version, date)}
    driver["drivers/block/Kconfig"] = edits.pop("drivers/block/Kconfig")
    driver["drivers/block/Makefile"] = edits.pop("drivers/block/Makefile")
    docs.update(edits)
    patches = [("patch-driver.txt", driver), ("patch-docs.txt", docs)]

    with tempfile.TemporaryDirectory(prefix="memdiskblk-series.") as tmp:
        repo = Path(tmp)
        git(repo, "init", "-q", env=env)
        for files in (driver, docs):  # the tree's own files, as they are
            for path in files:
                if (ksrc / path).exists():
                    (repo / path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ksrc / path, repo / path)
        git(repo, "add", "-A", env=env)
        git(repo, "commit", "-q", "-m", f"linux {'.'.join(map(str, version))}", env=env)
        for msgfile, files in patches:
            for path, text in files.items():
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                (repo / path).write_text(text)
            git(repo, "add", "-A", env=env)
            msg = message(msgfile, version, date) + f"\nSigned-off-by: {name} <{email}>\n"
            (repo / ".git" / "MSG").write_text(msg)
            git(repo, "commit", "-q", "-F", str(repo / ".git" / "MSG"), env=env)
        if out.exists():
            for old in out.glob("*.patch"):
                old.unlink()
        out.mkdir(parents=True, exist_ok=True)
        git(repo, "format-patch", "-q", "--cover-letter", "--no-signature",
            "-o", str(out), "HEAD~2", env=env)
    cover = next(out.glob("0000-*.patch"))
    subject, _, blurb = message("cover-letter.txt", version, date).partition("\n")
    text = cover.read_text()
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", blurb.strip())
    cover.write_text(text)
    return sorted(out.glob("*.patch"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ksrc", required=True, help="kernel source tree")
    ap.add_argument("--out", default=str(ROOT / "kernel-patch"),
                    help="directory for the series (default: kernel-patch/)")
    ap.add_argument("--show", metavar="PATH",
                    help="print one generated file (e.g. "
                         f"{DIR}/memdiskblk.c) instead of writing the series")
    a = ap.parse_args()
    try:
        if a.show:
            files = driver_files(tree_version(Path(a.ksrc)))
            sys.stdout.write(files[a.show])
            return 0
        for p in generate(a.ksrc, a.out):
            print(p)
    except (GenError, OSError, KeyError) as e:
        print(f"kernel-patch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
