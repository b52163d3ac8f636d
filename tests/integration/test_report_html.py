# SPDX-License-Identifier: GPL-2.0-or-later
"""The HTML audit report as an auditor's browser shows it: the golden records
(tests/unit/golden/records.jsonl, hostile values included) are written to a real journal,
termguardctl writes the report, and headless Chromium loads it. The page loads without a
console message (the content security policy reports every blocked load or script there; a
control page with one proves that such a message is seen), its tables hold the rows the golden
CSV holds, the charts are inline SVG, no value became markup, and it prints to PDF. The
screenshot and the PDF are kept in the build directory (tests/artifacts/)."""
import csv
import html.parser
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["TG_BUILD_DIR"]
CTL = os.path.join(BUILD, "ctl", "termguardctl")
WRITER = os.path.join(BUILD, "tests", "journal-writer")
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "golden")
ARTIFACTS = os.path.join(BUILD, "tests", "artifacts")
CHROMIUM = shutil.which("chromium")
BROWSER_TIMEOUT = 120


class Dom(html.parser.HTMLParser):
    """Tables by id as lists of rows of cell text, and the elements seen."""

    def __init__(self):
        super().__init__()
        self.tables, self.tags, self.rects = {}, [], 0
        self.svgs = []
        self.table = self.row = self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "table":
            self.table = self.tables.setdefault(a.get("id"), [])
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "svg":
            self.svgs.append(a.get("id"))
        elif tag == "rect" and a.get("class") == "bar":
            self.rects += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def golden_section(kind, section):
    """The rows (header first) of one section of a golden CSV file, formula marks removed."""
    with open(os.path.join(GOLDEN, kind + ".csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    start = rows.index(["section", section]) + 1
    end = rows.index([], start) if [] in rows[start:] else len(rows)
    return [[c[1:] if c[:2] in ("'=", "'+", "'-", "'@") else c for c in r] for r in rows[start:end]]


@unittest.skipIf(CHROMIUM is None, "chromium is not installed (scripts/install-deps.sh)")
class ReportHtmlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root: the journal and its key state are root's alone")
        cls.tmp = tempfile.mkdtemp(prefix="tg-report-html-")
        os.chmod(cls.tmp, 0o755)
        cls.conf = os.path.join(cls.tmp, "conf")
        state = os.path.join(cls.tmp, "state")
        os.makedirs(os.path.join(cls.conf, "central"))
        os.makedirs(state)
        with open(os.path.join(cls.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\n" % state)
        with open(os.path.join(cls.conf, "central", "department"), "w") as f:
            f.write("総務課\n")
        r = cls.ctl("journal", "init", "--seed-out", os.path.join(cls.tmp, "seed"))
        assert r.returncode == 0, r.stderr
        journal, hostid = os.path.join(state, "journal"), os.path.join(state, "host-id")
        with open(os.path.join(GOLDEN, "records.jsonl"), encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                t = rec["time_usec"] // 1000000
                iso = subprocess.run(["date", "-u", "-d", "@%d" % t, "+%Y-%m-%dT%H:%M:%SZ"], capture_output=True,
                                     text=True, check=True).stdout.strip()
                fields = ["%s=%s" % (k, v) for k, v in rec["fields"]]
                subprocess.run([WRITER, journal, hostid, "append", "--time", iso, rec["type"]] + fields,
                               check=True, capture_output=True, timeout=30)
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.pages = {}
        for kind in ("usage", "media", "exceptions", "blocked", "mfa"):
            for lang in ("ja", "en"):
                out = os.path.join(cls.tmp, "%s-%s.html" % (kind, lang))
                r = cls.ctl("report", kind, "--fiscal-year", "2026", "--format", "html", "--lang", lang, "--out", out)
                assert r.returncode == 0, r.stderr
                cls.pages[kind, lang] = out

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "tmp"):
            shutil.rmtree(cls.tmp)

    @classmethod
    def ctl(cls, *args):
        return subprocess.run([CTL, "--config", cls.conf] + list(args), capture_output=True, timeout=60,
                              env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE=""))

    def chromium(self, page, *args):
        """Runs headless Chromium on the page; returns (stdout, console messages)."""
        profile = tempfile.mkdtemp(prefix="profile-", dir=self.tmp)
        cmd = [CHROMIUM, "--headless", "--disable-gpu", "--user-data-dir=" + profile, "--enable-logging=stderr",
               "--v=0", "--no-first-run", "--window-size=1400,1800"]
        # Chromium's sandbox refuses to run as root; the page is our own file.
        if os.geteuid() == 0:
            cmd.append("--no-sandbox")
        r = subprocess.run(cmd + list(args) + ["file://" + page], capture_output=True, timeout=BROWSER_TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace")[-2000:])
        console = [line for line in r.stderr.decode(errors="replace").splitlines() if ":CONSOLE" in line]
        return r.stdout.decode(), console

    def dom(self, kind, lang="ja"):
        out, console = self.chromium(self.pages[kind, lang], "--dump-dom")
        self.assertEqual(console, [], "the page logged to the console")
        d = Dom()
        d.feed(out)
        return d

    def test_console_messages_are_seen(self):
        # the control: a page that loads something from outside and runs a script
        bad = os.path.join(self.tmp, "bad.html")
        with open(self.pages["usage", "ja"], encoding="utf-8") as f:
            text = f.read()
        with open(bad, "w", encoding="utf-8") as f:
            f.write(text.replace("<footer>", '<img src="http://127.0.0.1:9/x.png"><script>1</script><footer>'))
        _, console = self.chromium(bad, "--dump-dom")
        self.assertTrue(any("Content Security Policy" in c for c in console), console)

    def test_usage_register_page(self):
        d = self.dom("usage")
        uses = d.tables["t-uses"]
        expected = golden_section("usage", "uses")
        self.assertEqual(len(uses), len(expected))  # header and every use
        self.assertEqual(uses[0][0], "接続")
        # every column but the terminal's own (one journal here, two hosts in the golden file)
        own = {expected[0].index("host_id"), expected[0].index("terminal_department")}
        for got, want in zip(uses[1:], expected[1:]):
            self.assertEqual([c for i, c in enumerate(got) if i not in own],
                             [c for i, c in enumerate(want) if i not in own])
        self.assertTrue(all(r[3] == "総務課" for r in uses[1:]))
        self.assertEqual([r[4] for r in d.tables["t-files"][1:]],
                         [r[4] for r in golden_section("usage", "files")[1:]])
        self.assertEqual(d.tables["t-per_month"][1:], golden_section("usage", "per_month")[1:])
        # the chart: inline SVG with a bar per month
        self.assertIn("c-per_month", d.svgs)
        self.assertEqual(d.rects, 12)
        # hostile values stayed text
        self.assertNotIn("script", d.tags)
        self.assertNotIn("img", d.tags)
        self.assertNotIn("b", d.tags)
        self.assertIn('=HYPERLINK("http://x","y")', [r[4] for r in uses])

    def test_other_pages(self):
        for kind, table, section in (("media", "t-media", "media"), ("exceptions", "t-exceptions", "exceptions"),
                                     ("blocked", "t-attempts", "attempts"), ("mfa", "t-events", "events")):
            d = self.dom(kind, "en")
            want = golden_section(kind, section)
            rows = d.tables[table]
            self.assertEqual(len(rows), len(want), kind)
            if kind in ("media",):  # no terminal columns: the same cells
                self.assertEqual(rows[1:], want[1:])
            self.assertNotIn("script", d.tags, kind)
            self.assertNotIn("img", d.tags, kind)
            if kind == "blocked":  # the manufacturer's markup is text in its cell
                self.assertIn("<script>alert(1)</script>", [r[8] for r in rows])

    def test_screenshot_and_pdf_are_kept(self):
        png = os.path.join(ARTIFACTS, "report-usage-ja.png")
        pdf = os.path.join(ARTIFACTS, "report-usage-ja.pdf")
        for f in (png, pdf):
            if os.path.exists(f):
                os.unlink(f)
        shutil.copy(self.pages["usage", "ja"], os.path.join(ARTIFACTS, "report-usage-ja.html"))
        _, console = self.chromium(self.pages["usage", "ja"], "--screenshot=" + png)
        self.assertEqual(console, [])
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        _, console = self.chromium(self.pages["usage", "ja"], "--print-to-pdf=" + pdf, "--no-pdf-header-footer")
        self.assertEqual(console, [])
        with open(pdf, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        self.assertGreater(os.path.getsize(pdf), 1000)


if __name__ == "__main__":
    unittest.main()
