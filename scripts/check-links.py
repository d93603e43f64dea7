#!/usr/bin/env python3
"""Check the links of every Markdown file in the repository, offline.

    check-links.py [--root DIR] [FILE.md ...]

Without files, checks every Markdown file git knows of or would add
(tracked, or untracked and not ignored); outside a git checkout, every
*.md file under the root but tests/.cache. For each link, image, link
reference definition and HTML href/src outside code:

- a relative path must name a file or directory inside the repository
  (tracked or addable, in a checkout), with no leading "/";
- an #anchor must match a heading of the target Markdown file by GitHub's
  rules (lower case, punctuation dropped, spaces to "-", "-1", "-2" for
  repeats) or an HTML id/name in it; in another file only #L10 or
  #L10-L20 within its lines;
- [text][ref] must have its [ref]: definition.

http(s) and other URLs with a scheme are counted, not fetched. Prints one
line per dead link (FILE:LINE: target: why), then a summary; exits 1 if
any link is dead. Python 3 standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
BRACKETS = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
DEST = r"(<[^<>\n]*>|(?:[^\s()<>]|\([^\s()]*\))+)"
INLINE = re.compile(r"(!?)" + BRACKETS + r"\(\s*" + DEST +
                    r"?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
FULL_REF = re.compile(BRACKETS + r"\[([^\[\]]*)\]")
REF_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)", re.M)
HTML_LINK = re.compile(r"<(?:a|img|link|source)\b[^>]*?\b(?:href|src)\s*=\s*"
                       r"(?:\"([^\"]*)\"|'([^']*)')", re.I)
HTML_ID = re.compile(r"<[a-z][^>]*?\b(?:id|name)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')",
                     re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
LINE_ANCHOR = re.compile(r"^L(\d+)(?:-L(\d+))?$")


def prose(text):
    """text with code blocks blanked (line count kept): fenced blocks,
    and indented ones outside list items."""
    out = []
    fence = None
    list_indent = None      # content column of the list item we are in
    prev_blank = True
    in_code = False
    for line in text.split("\n"):
        blank = not line.strip()
        if fence:
            out.append("")
            m = FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            continue
        m = FENCE.match(line)
        if m:
            fence = m.group(1)
            out.append("")
            in_code = False
            continue
        if blank:
            out.append(line)
            prev_blank = True
            continue
        indent = len(line) - len(line.lstrip(" "))
        if "\t" in line[:indent + 1]:
            indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" "))
        base = list_indent or 0
        if (prev_blank or in_code) and indent >= base + 4:
            out.append("")
            in_code = True
            prev_blank = False
            continue
        in_code = False
        m = LIST_ITEM.match(line)
        if m:
            list_indent = len(m.group(1)) + len(m.group(2)) + max(1, len(m.group(3)))
        elif list_indent is not None and prev_blank and indent < list_indent:
            list_indent = None
        out.append(line)
        prev_blank = False
    return "\n".join(out)


def mask_code_spans(text):
    """Inline code replaced by a neutral word (offsets kept), escapes
    neutralised, so that nothing in code looks like a link."""
    text = re.sub(r"\\[\\`*_{}\[\]()#+\-.!<>]", "\0\0", text)
    return CODE_SPAN.sub(lambda m: "c" * len(m.group(0)), text)


def heading_text(raw):
    """The text GitHub renders for a heading's source."""
    t = raw
    spans = []

    def keep(m):
        code = m.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip(" "):
            code = code[1:-1]
        spans.append(code)
        return f"\x01{len(spans) - 1}\x01"
    t = CODE_SPAN.sub(keep, t)
    t = re.sub(r"!" + BRACKETS + r"\([^)]*\)", r"\1", t)
    t = re.sub(BRACKETS + r"\([^)]*\)", r"\1", t)
    t = re.sub(BRACKETS + r"\[[^\]]*\]", r"\1", t)
    t = re.sub(r"<[^>]+>", "", t)
    t = re.sub(r"\\(.)", r"\1", t)
    t = t.replace("*", "")
    t = re.sub(r"(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])", "", t)
    t = re.sub(r"\x01(\d+)\x01", lambda m: spans[int(m.group(1))], t)
    return t.strip()


def slug(text):
    """GitHub's (github-slugger's) anchor for a heading's text."""
    out = []
    for ch in text.lower():
        if ch in " -_" or unicodedata.category(ch)[0] in "LNM":
            out.append(ch)
    return "".join(out).replace(" ", "-")


def anchors(text):
    """Every anchor a Markdown file offers: heading slugs (with GitHub's
    -1, -2 for repeats) and HTML ids and names."""
    found = set()
    seen = {}
    lines = prose(text).split("\n")
    for i, line in enumerate(lines):
        m = ATX.match(line)
        title = None
        if m and not line.startswith("    "):
            title = m.group(2) or ""
        elif i and SETEXT.match(line) and lines[i - 1].strip() and \
                not LIST_ITEM.match(lines[i - 1]) and not ATX.match(lines[i - 1]) \
                and (line.strip()[0] == "=" or not lines[i - 1].startswith("    ")):
            title = lines[i - 1].strip()
        if title is None:
            continue
        base = slug(heading_text(title))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    for m in HTML_ID.finditer(text):
        found.add(m.group(1) if m.group(1) is not None else m.group(2))
    return found


def links(text):
    """(line, target) for every link outside code."""
    body = mask_code_spans(prose(text))
    found = []
    defs = {m.group(1).strip().lower() for m in REF_DEF.finditer(body)}

    def line_of(pos):
        return body.count("\n", 0, pos) + 1
    for m in INLINE.finditer(body):
        dest = m.group(3) or ""
        found.append((line_of(m.start()), dest.strip("<>")))
    for m in REF_DEF.finditer(body):
        found.append((line_of(m.start()), m.group(2).strip("<>")))
    for m in FULL_REF.finditer(body):
        if body[m.end():m.end() + 1] == "(":
            continue
        ref = (m.group(2) or m.group(1)).strip().lower()
        if ref not in defs:
            found.append((line_of(m.start()), f"[{m.group(2) or m.group(1)}]"))
    for m in HTML_LINK.finditer(body):
        found.append((line_of(m.start()),
                      m.group(1) if m.group(1) is not None else m.group(2)))
    return sorted(found)


class Checker:
    def __init__(self, root, known):
        self.root = root.resolve()
        self.known = known          # repository paths (files), or None
        self.dirs = set()
        if known is not None:
            for p in known:
                for parent in Path(p).parents:
                    self.dirs.add(str(parent))
        self.anchor_cache = {}
        self.external = 0
        self.checked = 0

    def anchors_of(self, path):
        if path not in self.anchor_cache:
            self.anchor_cache[path] = anchors(path.read_text(encoding="utf-8"))
        return self.anchor_cache[path]

    def exists(self, path):
        """Whether path (absolute, inside root) is part of the repository."""
        rel = str(path.relative_to(self.root))
        if self.known is None:
            return path.exists()
        return (rel in self.known and path.is_file()) or \
            (rel in self.dirs and path.is_dir()) or rel == "."

    def check(self, source, dest):
        """None if dest, linked from source, is alive; else why not."""
        if dest.startswith("[") and dest.endswith("]"):
            return "no definition for this reference"
        if SCHEME.match(dest) or dest.startswith("//"):
            self.external += 1
            return None
        self.checked += 1
        if not dest:
            return "empty link"
        path_part, _, frag = dest.partition("#")
        path_part = unquote(path_part.partition("?")[0])
        frag = unquote(frag)
        if not path_part:
            target = source
        elif path_part.startswith("/"):
            return "absolute path: use one relative to the file"
        else:
            target = Path(os.path.normpath(source.parent / path_part))
            try:
                target.relative_to(self.root)
            except ValueError:
                return "outside the repository"
            if not self.exists(target):
                return "no such file in the repository"
        if not frag:
            return None
        if target.is_dir():
            return "an anchor on a directory"
        if target.suffix.lower() in (".md", ".markdown"):
            if frag not in self.anchors_of(target):
                return f"no heading or id '{frag}' in {target.relative_to(self.root)}"
            return None
        m = LINE_ANCHOR.match(frag)
        if not m:
            return "only #L<n> anchors are checkable outside Markdown"
        lines = len(target.read_text(encoding="utf-8",
                                     errors="replace").splitlines())
        last = int(m.group(2) or m.group(1))
        if not 1 <= int(m.group(1)) <= last <= lines:
            return f"line anchor past the file's {lines} lines"
        return None


def repo_files(root):
    """Files git tracks or would add under root, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {p for p in out.decode().split("\0") if p and (root / p).exists()}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path,
                    default=Path(__file__).resolve().parent.parent)
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args(argv)
    root = args.root.resolve()
    known = repo_files(root)
    if args.files:
        files = [f.resolve() for f in args.files]
    elif known is not None:
        files = sorted(root / p for p in known
                       if p.lower().endswith((".md", ".markdown")))
    else:
        files = sorted(p for p in root.rglob("*.md")
                       if ".cache" not in p.parts and ".git" not in p.parts)
    checker = Checker(root, known)
    dead = 0
    for f in files:
        for line, dest in links(f.read_text(encoding="utf-8")):
            why = checker.check(f, dest)
            if why:
                dead += 1
                print(f"{f.relative_to(root)}:{line}: {dest}: {why}")
    print(f"{len(files)} Markdown files, {checker.checked} relative links "
          f"checked, {checker.external} external not fetched, {dead} dead")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
