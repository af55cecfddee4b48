"""Open the built site in headless Chromium and check what a reader sees.

``python docs/check_site.py [HTML_DIR] [SCREENSHOT_DIR]`` (defaults
``docs/_build/html`` and ``docs/_build/screenshots``) serves the site on
localhost, opens four pages (the index, a user-guide chapter with maths, the
example gallery and one example) in Debian's Chromium through its
ChromeDriver (packages ``chromium`` and ``chromium-driver``), saves a PNG
screenshot of each, and exits 1 listing every problem it finds:

- a formula left as raw TeX (a ``math`` element that MathJax did not
  typeset, or ``\\(``, ``\\[``, ``\\frac``, ``\\begin`` in the page's text
  outside code);
- a gallery thumbnail that is sphinx-gallery's placeholder, or an example
  page without a figure;
- an image that did not load;
- horizontal overflow: the page wider than the window, or a code block
  wider than its box that does not scroll.

It exits 2 when Chromium or ChromeDriver is missing (``dev.py docs`` then
says how to install them). Nothing is fetched from the network: the browser
runs with its background networking off, and the site must not need it.
"""

import functools
import http.server
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PAGES = {
    "index": "index.html",
    "batch_norm": "user_guide/batch_norm.html",
    "gallery": "auto_examples/index.html",
    "example": "auto_examples/dropout_vs_none.html",
}
WIDTH, HEIGHT = 1280, 900
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

# Run in the page; returns a list of problems (strings).
PAGE_CHECKS = r"""
const problems = [];
const text = (el) => el ? el.innerText : "";
// Raw TeX: math elements MathJax left alone, and TeX in the prose.
for (const el of document.querySelectorAll(".math")) {
  if (!el.querySelector("mjx-container")) {
    problems.push("raw TeX: " + text(el).slice(0, 80));
  }
}
const prose = document.querySelector("main") || document.body;
const clone = prose.cloneNode(true);
for (const el of clone.querySelectorAll("pre, code, mjx-container, script")) {
  el.remove();
}
const raw = (clone.textContent.match(/\\\(|\\\[|\\frac|\\begin\{/g) || []);
if (raw.length) problems.push("raw TeX in the text: " + raw.slice(0, 5).join(" "));
// Images.
for (const img of document.images) {
  if (!img.complete || img.naturalWidth === 0) {
    problems.push("broken image: " + img.getAttribute("src"));
  }
}
// sphinx-gallery writes a thumbnail for every example; without a figure it
// is the placeholder (no_image.png), resized. The placeholder's own pixels
// are compared below, in Python: here only the thumbnails' addresses.
const thumbs = Array.from(
  document.querySelectorAll(".sphx-glr-thumbcontainer img"), (img) => img.src);
// Horizontal overflow: the page, and boxes whose content is wider than
// they are and that do not scroll (so the rest is cut off or spills over).
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) {
  problems.push(`page overflows: ${root.scrollWidth}px wide in ${root.clientWidth}px`);
}
const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
for (const el of document.querySelectorAll("pre, div.math, table, .highlight")) {
  if (el.scrollWidth > el.clientWidth + 1 && !scrolls(el) &&
      !(el.parentElement && scrolls(el.parentElement))) {
    problems.push(`${el.tagName.toLowerCase()} cut off: ` + text(el).slice(0, 60));
  }
}
return [problems, thumbs];
"""

# Resolves once MathJax has typeset the page (at once where it has no maths).
WAIT_FOR_MATHS = """
const done = arguments[arguments.length - 1];
const ready = () => {
  if (!document.querySelector(".math")) return done(true);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else {
    setTimeout(ready, 100);
  }
};
ready();
"""

WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
Promise.all(Array.from(document.images, (img) => img.complete ? null :
  new Promise((r) => { img.onload = img.onerror = r; }))).then(() => done(true));
"""


def _find(candidates):
    return next((path for path in candidates if Path(path).exists()), None)


def _is_placeholder(src, html):
    """Whether the thumbnail at ``src`` is sphinx-gallery's placeholder.

    Its thumbnail of an example without a figure is ``no_image.png`` scaled
    into the thumbnail's box, so it is told by its pixels: the same image as
    the placeholder scaled the same way (matplotlib reads both).
    """
    from urllib.parse import unquote, urlsplit

    import matplotlib.image as mpimg
    import numpy as np

    path = html / unquote(urlsplit(src).path).lstrip("/")
    placeholder = html / "_static" / "no_image.png"
    if not path.is_file() or not placeholder.exists():
        return False
    thumb, blank = mpimg.imread(path), mpimg.imread(placeholder)
    if thumb.shape[-1] != blank.shape[-1]:
        return False
    # Nearest-neighbour resample of the placeholder to the thumbnail's size.
    rows = np.linspace(0, blank.shape[0] - 1, thumb.shape[0]).astype(int)
    cols = np.linspace(0, blank.shape[1] - 1, thumb.shape[1]).astype(int)
    return float(np.mean(np.abs(blank[rows][:, cols] - thumb))) < 0.05


def _serve(folder):
    """A localhost HTTP server of ``folder`` in a thread; returns its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _browser(chromium, chromedriver):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--hide-scrollbars",
                 f"--window-size={WIDTH},{HEIGHT}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    return driver


def check(html, shots):
    """Problems found on the four pages, by page; saves their screenshots."""
    chromium, chromedriver = _find(CHROMIUM), _find(CHROMEDRIVER)
    if chromium is None or chromedriver is None:
        print("check_site: Chromium and ChromeDriver are needed (Debian: apt-get "
              "install chromium chromium-driver); the site was not checked.")
        sys.exit(2)
    shots.mkdir(parents=True, exist_ok=True)
    server, url = _serve(html)
    driver = _browser(chromium, chromedriver)
    from selenium.common.exceptions import TimeoutException

    found = {}
    try:
        for name, page in PAGES.items():
            if not (html / page).exists():
                found[name] = [f"{page} was not built"]
                continue
            driver.get(url + page)
            problems = []
            try:
                if not driver.execute_async_script(WAIT_FOR_MATHS):
                    problems.append("MathJax failed to typeset the page")
                driver.execute_async_script(WAIT_FOR_IMAGES)
            except TimeoutException:
                problems.append("the page's maths or images were still loading "
                                "after 60 s (MathJax not found?)")
            seen, thumbs = driver.execute_script(PAGE_CHECKS)
            problems += seen + [f"placeholder thumbnail: {thumb}"
                                for thumb in thumbs if _is_placeholder(thumb, html)]
            if name == "example" and not driver.find_elements(
                    "css selector", "img.sphx-glr-single-img, img.sphx-glr-multi-img"):
                problems.append("the example page shows no figure")
            # The page in one screenshot (up to 6000 pixels high).
            height = driver.execute_script(
                "return document.documentElement.scrollHeight")
            driver.set_window_size(WIDTH, min(max(height, HEIGHT), 6000))
            driver.save_screenshot(str(shots / f"{name}.png"))
            driver.set_window_size(WIDTH, HEIGHT)
            found[name] = problems
    finally:
        driver.quit()
        server.shutdown()
    return found


def main(argv):
    html = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    shots = Path(argv[2]) if len(argv) > 2 else ROOT / "_build" / "screenshots"
    found = check(html, shots)
    bad = False
    for name, problems in found.items():
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        print(f"check_site: {PAGES[name]}: {status}")
        for problem in problems:
            print(f"    {problem}")
        bad = bad or bool(problems)
    print(f"check_site: screenshots in {shots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
