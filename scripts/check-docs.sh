#!/usr/bin/env bash
# The front page stays a front page and the documentation's links lead
# somewhere: README.md at most 250 lines and naming the test command, and
# every relative link in README.md, CONTRIBUTING.md and docs/*.md to a file
# that exists (anchors are not checked). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
lines=$(wc -l < README.md)
if [ "$lines" -gt 250 ]; then
  echo "check-docs: README.md has $lines lines (at most 250: the reference belongs in docs/)" >&2
  status=1
fi
grep -q 'scripts/test\.sh' README.md || { echo "check-docs: README.md does not name scripts/test.sh" >&2; status=1; }
for page in README.md CONTRIBUTING.md docs/*.md; do
  dir=$(dirname "$page")
  # ](target) and ](target#anchor), not web addresses or anchors alone
  while IFS= read -r target; do
    target=${target%%#*}
    [ -z "$target" ] && continue
    case "$target" in http://*|https://*|mailto:*) continue ;; esac
    if [ ! -e "$dir/$target" ]; then
      echo "check-docs: $page links to $target, which does not exist" >&2
      status=1
    fi
  done < <(grep -o '](\([^)]*\))' "$page" | sed 's/^](//; s/)$//')
done
exit $status
