#!/usr/bin/env bash
# The layout rules of issue 18, checked in a second with grep and awk (no build):
#   1. no Rust source file over 500 lines (test files excepted: a file named
#      tests.rs or one under a tests/ folder);
#   2. no Leptos component in app/src over 80 lines, counted from #[component]
#      to the closing brace of its function;
#   3. pages only render and collect input: no file under app/src/pages uses
#      shared::crypto for anything but the names Id and b64, nor the browser's
#      protocol steps (shared::client) or the record's sealing, wrapping and
#      opening functions (shared::records).
# Each failure is printed as file:line and a reason; the exit code is
# 1 when anything failed, so test.sh can run it as a step.
set -uo pipefail
cd "$(dirname "$0")/.."

MAX_FILE_LINES=500
MAX_COMPONENT_LINES=80
failures=0

fail() {
  echo "$1"
  failures=$((failures + 1))
}

sources() {
  local dirs=()
  for d in app/src server/src shared/src crates/*/src; do
    [ -d "$d" ] && dirs+=("$d")
  done
  [ "${#dirs[@]}" -gt 0 ] && find "${dirs[@]}" -name '*.rs' -type f | sort
}

# 1. File length.
while IFS= read -r file; do
  case "$file" in
    */tests.rs | */tests/*) continue ;;
  esac
  lines=$(wc -l <"$file")
  if [ "$lines" -gt "$MAX_FILE_LINES" ]; then
    fail "$file:1: $lines lines, over $MAX_FILE_LINES (split it, or move its tests into tests.rs)"
  fi
done < <(sources)

# 2. Component length. Braces are counted outside string and char literals
# and comments; a component ends where its depth returns to zero.
while IFS= read -r report; do
  fail "$report"
done < <(find app/src -name '*.rs' -type f | sort | xargs awk -v max="$MAX_COMPONENT_LINES" '
  function strip(s) {
    gsub(/\\\\/, "", s)        # escaped backslashes
    gsub(/\\"/, "", s)         # escaped quotes
    gsub(/"[^"]*"/, "\"\"", s) # string literals on one line
    gsub(/'"'"'[{}]'"'"'/, "", s) # the char literals { and }
    sub(/\/\/.*/, "", s)       # line comments
    return s
  }
  FNR == 1 { state = 0 }
  state == 0 && /^[[:space:]]*#\[component\]/ { state = 1; start = FNR; depth = 0; opened = 0; name = ""; next }
  state == 1 {
    if (name == "" && match($0, /fn [A-Za-z0-9_]+/)) name = substr($0, RSTART + 3, RLENGTH - 3)
    line = strip($0)
    n = split(line, chars, "")
    for (i = 1; i <= n; i++) {
      if (chars[i] == "{") { depth++; opened = 1 }
      else if (chars[i] == "}") depth--
    }
    if (opened && depth <= 0) {
      length_ = FNR - start + 1
      if (length_ > max) printf "%s:%d: component %s is %d lines, over %d (split it into smaller components)\n", FILENAME, start, name, length_, max
      state = 0
    }
  }
')

# 3. Pages call no crypto. `use` lists may span lines, so each file is read
# one statement (up to `;`) at a time.
while IFS= read -r report; do
  fail "$report"
done < <(find app/src/pages -name '*.rs' -type f 2>/dev/null | sort | xargs -r awk '
  BEGIN {
    # The record protocol in shared::records: sealing, wrapping, opening.
    protocol = "(seal_metadata|open_metadata|pad_metadata|unpad_metadata|wrap_child_key|unwrap_child_key|wrap_content_key|unwrap_content_key|wrap_root_key|unwrap_root_key|new_child|new_record|verify_version|OpenTree::open|OpenTree::open_from)"
  }
  FNR == 1 { stmt = ""; first = 0 }
  {
    line = $0
    sub(/\/\/.*/, "", line)
    if (stmt == "" && line !~ /^[[:space:]]*(pub(\([a-z]+\))?[[:space:]]+)?use[[:space:]]/) {
      check(line, FNR)
      next
    }
    if (stmt == "") first = FNR
    stmt = stmt " " line
    if (line !~ /;/) next
    check(stmt, first)
    stmt = ""
  }
  function check(s, at,    rest, names, inner, i, parts, name) {
    if (s ~ /shared::client/ || (s ~ /^[[:space:]]*(pub(\([a-z]+\))?[[:space:]]+)?use[[:space:]]+shared::/ && s ~ /[{,[:space:]]client::/)) {
      printf "%s:%d: uses shared::client (a protocol step): move it to app/src/tasks\n", FILENAME, at
    }
    if (match(s, protocol)) {
      name = substr(s, RSTART, RLENGTH)
      printf "%s:%d: uses %s from shared::records: move it to app/src/tasks\n", FILENAME, at, name
    }
    # Every path under crypto:: must end in Id or b64.
    rest = s
    while (match(rest, /crypto::/)) {
      rest = substr(rest, RSTART + RLENGTH)
      if (substr(rest, 1, 1) == "{") {
        # The braced list, with nested braces.
        depth = 0; inner = ""
        for (i = 1; i <= length(rest); i++) {
          c = substr(rest, i, 1)
          if (c == "{") depth++
          else if (c == "}") { depth--; if (depth == 0) break }
          inner = inner c
        }
        inner = substr(inner, 2)
        gsub(/[[:space:]]/, "", inner)
        gsub(/[{}]/, ",", inner)
        n = split(inner, parts, ",")
        for (i = 1; i <= n; i++) {
          # The prefix of a nested list (sign::) is named by the names inside it.
          if (parts[i] == "" || parts[i] ~ /::$/ || parts[i] == "Id" || parts[i] == "b64") continue
          printf "%s:%d: uses shared::crypto::%s (pages may name only Id and b64): move the step to app/src/tasks\n", FILENAME, at, parts[i]
        }
      } else if (match(rest, /^[A-Za-z0-9_:]+/)) {
        name = substr(rest, 1, RLENGTH)
        sub(/::$/, "", name)
        if (name != "Id" && name != "b64" && name !~ /^b64::/) {
          printf "%s:%d: uses shared::crypto::%s (pages may name only Id and b64): move the step to app/src/tasks\n", FILENAME, at, name
        }
      }
    }
  }
')

if [ "$failures" -gt 0 ]; then
  echo "layout: $failures problem(s)"
  exit 1
fi
echo "layout: ok"
