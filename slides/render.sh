#!/bin/sh
# slides/render.sh - render the decks with Marp CLI. Optional: nothing in
# building or testing the C code needs it (or node).
#
#   slides/render.sh                 HTML, one self-contained file a deck:
#                                    slides/build/NN_name.html
#   slides/render.sh --pdf           PDF as well (needs Chromium or Chrome)
#   slides/render.sh --png           a PNG of every slide as well, in
#                                    slides/build/png/ (needs Chromium):
#                                    look at them before calling a deck done
#   slides/render.sh [--pdf] [--png] DECK.md...   only these decks
#
# The first run installs the Marp CLI version pinned in package.json and
# package-lock.json into slides/node_modules (npm ci). Quotes must be in
# sync first (slides/sync.sh --check), so that what is rendered is what
# `make test` accepts. Marp's options live in slides/marp.config.mjs and
# the look in slides/theme/sockstep.css; the decks carry no front matter.
#
# --pdf and --png need a Chinese font for the decks' 粘包 (Debian:
# fonts-noto-cjk); the script checks with fc-list, and says how to
# install one.
#
# Environment: CHROME_PATH, the browser for --pdf and --png (found on
# PATH otherwise).

set -eu

usage() {
    echo "usage: slides/render.sh [--pdf] [--png] [DECK.md...]" >&2
    exit 2
}

pdf=0 png=0
while [ $# -gt 0 ]; do
    case "$1" in
    --pdf) pdf=1 ;;
    --png) png=1 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
    shift
done

start=$(pwd)
SLIDES=$(cd "$(dirname "$0")" && pwd)

# The decks, as absolute paths: the ones named, or all of them.
decks=
if [ $# -eq 0 ]; then
    for deck in "$SLIDES"/[0-9][0-9]_*.md; do
        decks="$decks $deck"
    done
else
    for deck in "$@"; do
        case "$deck" in
        /*) ;;
        *) deck=$start/$deck ;;
        esac
        [ -f "$deck" ] || { echo "render.sh: no such deck: $deck" >&2; exit 1; }
        decks="$decks $deck"
    done
fi

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "render.sh: rendering the slides needs node and npm (18 or later):" >&2
        echo "  sudo apt-get install nodejs npm    # Debian, Ubuntu" >&2
        echo "  brew install node                  # macOS" >&2
        echo "The decks themselves are Markdown: read them as they are." >&2
        exit 1
    fi
done

browser=
if [ "$pdf" = 1 ] || [ "$png" = 1 ]; then
    browser=${CHROME_PATH:-}
    if [ -z "$browser" ]; then
        for name in chromium chromium-browser google-chrome google-chrome-stable; do
            browser=$(command -v "$name" 2>/dev/null) && break
            browser=
        done
    fi
    if [ -z "$browser" ]; then
        echo "render.sh: PDF and PNG need Chromium (or Chrome):" >&2
        echo "  sudo apt-get install chromium      # Debian" >&2
        echo "or set CHROME_PATH to the browser's program." >&2
        exit 1
    fi
fi

# The decks have a few Chinese words (粘包); the browser draws them with
# whichever CJK font the theme's stack names and this system has, and
# without any, as empty boxes. fc-list (fontconfig) says whether there
# is one; where fontconfig is missing (macOS), the system has its own.
if [ -n "$browser" ] && command -v fc-list >/dev/null 2>&1 &&
    [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    echo "render.sh: no Chinese font is installed: 粘包 would come out as empty boxes." >&2
    echo "  sudo apt-get install fonts-noto-cjk    # Debian, Ubuntu" >&2
    echo "  sudo dnf install google-noto-sans-cjk-fonts    # Fedora" >&2
    exit 1
fi

# shellcheck disable=SC2086 # $decks is a list of paths without spaces
"$SLIDES/sync.sh" --check $decks >&2 || {
    echo "render.sh: fix the problems above first (slides/sync.sh rewrites stale quotes)" >&2
    exit 1
}

cd "$SLIDES"
# Install the pinned Marp CLI, or reinstall it when the lock file changed.
if [ ! -x node_modules/.bin/marp ] ||
    [ ! -f node_modules/.package-lock.json ] ||
    [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; then
    echo "installing Marp CLI (npm ci) into slides/node_modules"
    npm ci --no-audit --no-fund --loglevel=error
fi

marp() {
    node_modules/.bin/marp --config-file marp.config.mjs --no-stdin "$@"
}

mkdir -p build
for deck in $decks; do
    name=$(basename "$deck" .md)
    marp "$deck" -o "build/$name.html"
    # Self-contained: every image is inlined (marp.config.mjs), so no
    # src= may point at a file or a server.
    if grep -o 'src="[^"]*"' "build/$name.html" | grep -v '^src="data:' >&2; then
        echo "render.sh: build/$name.html refers to files outside itself" >&2
        exit 1
    fi
    if [ "$pdf" = 1 ]; then
        marp --pdf --browser-path "$browser" "$deck" -o "build/$name.pdf"
    fi
    if [ "$png" = 1 ]; then
        mkdir -p build/png
        rm -f "build/png/$name".[0-9]*.png
        marp --images png --browser-path "$browser" "$deck" \
            -o "build/png/$name.png"
    fi
done
echo "rendered into $SLIDES/build/"
