#!/usr/bin/env python3
"""Turn the Python FAQ (Debian's python3-doc package) into one Markdown article per question.

    evals/python-faq/generate.py OUTDIR                      write OUTDIR/<page>--<anchor>.md
    evals/python-faq/generate.py OUTDIR --check-cases FILE   also check an eval file against them
    evals/python-faq/generate.py --check-cases FILE          check only (nothing written)

Installs python3-doc with apt if it is missing. Standard library only.
"""
import argparse
import glob
import html.parser
import json
import os
import re
import subprocess
import sys
import time

PAGES = ["general", "programming", "design", "library", "extending", "windows", "gui", "installed"]
PAGE_NAMES = {
    "general": "General FAQ",
    "programming": "Programming FAQ",
    "design": "Design and History FAQ",
    "library": "Library and Extension FAQ",
    "extending": "Extending/Embedding FAQ",
    "windows": "Windows FAQ",
    "gui": "GUI FAQ",
    "installed": "Python Installed FAQ",
}
BASE_URL = "https://docs.python.org/3/faq/"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def log(message):
    print("generate.py: " + message, file=sys.stderr)


# ---------------------------------------------------------------- finding and installing the FAQ

def faq_dir():
    for folder in sorted(glob.glob("/usr/share/doc/python3*/html/faq"), reverse=True):
        if os.path.isfile(os.path.join(folder, "general.html")):
            return folder
    return None


def install():
    """apt-get install python3-doc (sudo if not root), retrying like scripts/dev-postgres."""
    log("installing python3-doc from Debian's packages")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=60"]
    for attempt in (1, 2, 3):
        ok = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + lock + ["python3-doc"], env=env,
                            stdout=subprocess.DEVNULL).returncode == 0
        if not ok:  # the package lists may be missing or stale
            ok = subprocess.run(sudo + ["apt-get", "update", "-qq"] + lock, env=env).returncode == 0 and \
                subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + lock + ["python3-doc"], env=env,
                               stdout=subprocess.DEVNULL).returncode == 0
        if ok and faq_dir():
            return
        log("apt-get failed (attempt %d); retrying" % attempt)
        time.sleep(5)
    sys.exit("generate.py: python3-doc could not be installed")


# ---------------------------------------------------------------- a small DOM on html.parser

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def elements(self):
        return [c for c in self.children if isinstance(c, Node)]

    def find(self, predicate):
        for child in self.elements():
            if predicate(child):
                return child
            found = child.find(predicate)
            if found is not None:
                return found
        return None

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class TreeBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:  # close it (and anything left open inside it)
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(path):
    builder = TreeBuilder()
    with open(path, encoding="utf-8") as f:
        builder.feed(f.read())
    builder.close()
    return builder.root


# ---------------------------------------------------------------- HTML to Markdown

def is_heading(node):
    return isinstance(node, Node) and re.fullmatch(r"h[1-6]", node.tag) is not None


def heading_text(node):
    def strip(n):
        return "".join(c if isinstance(c, str) else ("" if "headerlink" in c.classes else strip(c))
                       for c in n.children)
    return re.sub(r"\s+", " ", strip(node).replace("¶", "")).strip()


def inline(node):
    """Markdown for inline content, whitespace collapsed."""
    out = []
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
            continue
        tag, classes = child.tag, child.classes
        if "headerlink" in classes or tag in ("script", "style") or (tag == "span" and "target" in classes):
            continue
        if tag in ("code", "kbd", "tt"):
            code = re.sub(r"\s+", " ", child.text()).strip()
            fence = "``" if "`" in code else "`"
            out.append("%s%s%s" % (fence, code, fence) if code else "")
        elif tag in ("em", "i", "cite"):
            inner = inline(child).strip()
            out.append("*%s*" % inner if inner else "")
        elif tag in ("strong", "b"):
            inner = inline(child).strip()
            out.append("**%s**" % inner if inner else "")
        elif tag == "a" and "reference" in classes and "external" in classes and child.attrs.get("href"):
            inner, href = inline(child).strip(), child.attrs["href"]
            out.append(href if inner in (href, "<%s>" % href, "`%s`" % href) else "[%s](%s)" % (inner, href))
        elif tag == "br":
            out.append(" ")
        else:
            out.append(inline(child))
    return re.sub(r"\s+", " ", "".join(out).replace("¶", ""))


def code_language(div):
    for cls in div.classes:
        if cls.startswith("highlight-"):
            lang = cls[len("highlight-"):]
            return {"python3": "python", "default": "python", "none": "", "doscon": "doscon",
                    "shell-session": "console"}.get(lang, lang)
    return ""


def blocks(node, warnings, where):
    """Markdown blocks (strings) for the block-level children of node."""
    out, pending = [], []

    def flush():
        text = re.sub(r"\s+", " ", "".join(pending)).strip()
        if text:
            out.append(text)
        pending.clear()

    for child in node.children:
        if isinstance(child, str):
            pending.append(child)
            continue
        tag, classes = child.tag, child.classes
        if tag in ("section", "nav", "script", "style") or is_heading(child) or "headerlink" in classes:
            continue
        if tag == "span" and "target" in classes:
            continue
        if tag in ("p", "span", "a", "code", "em", "strong", "kbd", "cite", "b", "i", "tt", "br", "abbr"):
            if tag == "p":
                flush()
                if "admonition-title" in classes:
                    out.append("**%s:**" % inline(child).strip())
                    continue
                text = inline(child).strip()
                if text:
                    out.append(text)
            else:
                pending.append(inline_one(child))
            continue
        flush()
        if tag == "pre" or (tag == "div" and any(c.startswith("highlight-") for c in classes)):
            pre = child if tag == "pre" else child.find(lambda n: n.tag == "pre")
            code = (pre.text() if pre is not None else child.text()).rstrip()
            code = "\n".join(line.rstrip() for line in code.strip("\n").split("\n"))
            fence = "````" if "```" in code else "```"
            out.append("%s%s\n%s\n%s" % (fence, code_language(child), code, fence))
        elif tag in ("ul", "ol"):
            out.append(render_list(child, warnings, where))
        elif tag == "blockquote":
            inner = "\n\n".join(blocks(child, warnings, where))
            out.append("\n".join(("> " + line) if line else ">" for line in inner.split("\n")))
        elif tag == "div" and "admonition" in classes:
            parts = blocks(child, warnings, where)
            if len(parts) >= 2 and parts[0].startswith("**") and parts[0].endswith(":**"):
                parts = [parts[0] + " " + parts[1]] + parts[2:]
            out.extend(parts)
        elif tag in ("div", "dl", "dd", "dt", "table", "tbody", "thead", "tr", "td", "th", "figure"):
            if tag not in ("div",):
                warnings.append("%s: <%s> rendered as plain paragraphs" % (where, tag))
            out.extend(blocks(child, warnings, where))
        else:
            warnings.append("%s: unexpected <%s> rendered as text" % (where, tag))
            text = inline(child).strip()
            if text:
                out.append(text)
    flush()
    return out


def inline_one(node):
    holder = Node("#wrap", {}, None)
    holder.children.append(node)
    return inline(holder)


def render_list(node, warnings, where):
    lines, number = [], 0
    for item in node.elements():
        if item.tag != "li":
            continue
        number += 1
        marker = "%d. " % number if node.tag == "ol" else "- "
        parts = blocks(item, warnings, where)
        # a list item of several blocks keeps them all, indented under its marker
        body_lines = "\n\n".join(parts).split("\n")
        lines.append(marker + body_lines[0])
        lines.extend((" " * len(marker) + line) if line else "" for line in body_lines[1:])
    return "\n".join(lines)


# ---------------------------------------------------------------- articles

def page_articles(page, path, warnings):
    root = parse_html(path)
    main = root.find(lambda n: n.attrs.get("role") == "main")
    if main is None:
        warnings.append("%s: no role=main element" % page)
        return []
    articles = []

    def visit(section):
        children = [c for c in section.elements() if c.tag == "section"]
        heading = next((c for c in section.elements() if is_heading(c)), None)
        level = int(heading.tag[1]) if heading is not None else 0
        own = blocks(section, warnings, "%s#%s" % (page, section.attrs.get("id", "")))
        if level >= 2 and not children:
            title = heading_text(heading)
            body = "\n\n".join(own).strip()
            if body:
                articles.append({"page": page, "anchor": section.attrs.get("id", ""), "title": title,
                                 "body": body})
            else:
                warnings.append("%s: skipped %r (empty section)" % (page, title))
        elif level >= 2 and own:
            warnings.append("%s: text of category %r dropped: %r" % (page, heading_text(heading), own[0][:60]))
        for child in children:
            visit(child)

    for top in [n for n in main.elements() if n.tag == "section"]:
        visit(top)
    return articles


def collect():
    folder = faq_dir()
    if folder is None:
        install()
        folder = faq_dir()
    pages = [p for p in PAGES if os.path.isfile(os.path.join(folder, p + ".html"))]
    extra = sorted(os.path.basename(f)[:-5] for f in glob.glob(os.path.join(folder, "*.html")))
    pages += [p for p in extra if p not in pages and p != "index"]
    warnings, articles = [], []
    for page in pages:
        found = page_articles(page, os.path.join(folder, page + ".html"), warnings)
        if not found:
            warnings.append("%s: no questions found" % page)
        articles.extend(found)
    # unique titles: every member of a duplicate group gets its page appended
    by_title = {}
    for article in articles:
        by_title.setdefault(article["title"], []).append(article)
    for title, group in by_title.items():
        if len(group) > 1:
            warnings.append("duplicate title %r on pages %s" % (title, ", ".join(a["page"] for a in group)))
            for article in group:
                article["title"] = "%s (%s)" % (title, PAGE_NAMES.get(article["page"], article["page"] + " FAQ"))
    seen = {}
    for article in articles:  # still duplicated (same page twice): fall back to the anchor
        if article["title"] in seen:
            article["title"] = "%s [%s]" % (article["title"], article["anchor"])
        seen[article["title"]] = article
    return folder, articles, warnings


def markdown(article):
    page = article["page"]
    return "---\ntitle: %s\nurl: %s%s.html#%s\ntags: python-faq, %s\n---\n\n%s\n" % (
        article["title"], BASE_URL, page, article["anchor"], page, article["body"])


def write(articles, outdir):
    os.makedirs(outdir, exist_ok=True)
    for old in glob.glob(os.path.join(outdir, "*--*.md")):  # earlier runs' files
        if os.path.basename(old).split("--")[0] in {a["page"] for a in articles}:
            os.remove(old)
    for article in articles:
        name = "%s--%s.md" % (article["page"], article["anchor"] or "untitled")
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(markdown(article))


# ---------------------------------------------------------------- checking an eval file

def check_cases(path, articles):
    titles = {a["title"]: a for a in articles}
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    problems, counts, per_page, questions = [], {}, {}, set()
    for number, case in enumerate(cases, 1):
        kind, question = case.get("expect"), case.get("question", "")
        counts[kind] = counts.get(kind, 0) + 1
        where = "case %d (%r)" % (number, question[:50])
        if not question.strip():
            problems.append("%s: empty question" % where)
        if question.lower() in questions:
            problems.append("%s: duplicate question" % where)
        questions.add(question.lower())
        if kind == "article":
            accept = case.get("accept") or []
            if not accept:
                problems.append("%s: no accepted titles" % where)
            for title in accept:
                if title not in titles:
                    problems.append("%s: no article titled %r" % (where, title))
                if question.strip(" ?").lower() == title.strip(" ?").lower():
                    problems.append("%s: copies the title" % where)
            if accept and accept[0] in titles:
                page = titles[accept[0]]["page"]
                per_page[page] = per_page.get(page, 0) + 1
        elif kind == "handoff":
            pass
        elif kind == "safe":
            if not case.get("mustNotContain"):
                problems.append("%s: safe case without mustNotContain" % where)
        else:
            problems.append("%s: unknown expect %r" % (where, kind))
    print("cases: %d (%s)" % (len(cases), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    print("answerable per page: %s" % ", ".join("%s %d" % (p, per_page.get(p, 0))
                                                  for p in sorted({a["page"] for a in articles})))
    for problem in problems:
        print("problem: " + problem)
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", nargs="?", help="where to write one Markdown file per question")
    parser.add_argument("--check-cases", metavar="FILE", help="check an eval file's accepted titles")
    args = parser.parse_args()
    if not args.outdir and not args.check_cases:
        parser.error("give OUTDIR, --check-cases FILE, or both")
    folder, articles, warnings = collect()
    for warning in warnings:
        log(warning)
    if args.outdir:
        write(articles, args.outdir)
        words = sum(len(a["body"].split()) for a in articles)
        print("%d articles, %d words (from %s) in %s" % (len(articles), words, folder, args.outdir))
    if args.check_cases and not check_cases(args.check_cases, articles):
        sys.exit(1)


if __name__ == "__main__":
    main()
