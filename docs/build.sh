#!/usr/bin/env bash
# Build the documentation site into site/ (open site/index.html), strictly: any warning (an
# unresolved reference, a malformed docstring, a broken link or anchor, a notebook cell that
# raises, a public name without a reference entry) fails the build.
#
#   pip install -e ".[docs]" && bash docs/build.sh
#
# The notebook is executed, and the API and command-line references are generated from the
# code, on every build. Extra arguments go to sphinx-build (e.g. -j 2).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
# This checkout's sources first, for Sphinx and for the notebook's kernel alike.
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
# Where the site and Sphinx's cache go (the tests build into a temporary folder).
SITE=${SITE:-site} DOCTREES=${DOCTREES:-docs/_build/doctrees}
rm -rf "$SITE" "$DOCTREES"
start=$SECONDS
"$PYTHON" -m sphinx -b html -W --keep-going -n -q -d "$DOCTREES" docs "$SITE" "$@"
echo "docs: $SITE/ built in $((SECONDS - start)) s, $(find "$SITE" -name '*.html' \
    -not -path "$SITE/_*" | wc -l) pages (open $SITE/index.html)"
