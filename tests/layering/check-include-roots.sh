#!/usr/bin/env bash
# Checks that the build enforces the layering: for every pair of modules (m, t), a file
# compiled with m's include root (the one runvm_module_includes gives m's targets) can
# include a header of t exactly when RULES allows m to include t. The preprocessor
# answers (__has_include), so a forbidden #include in a module is a compile error.
# usage: check-include-roots.sh RULES SRC_ROOT INCLUDE_ROOTS CXX
set -euo pipefail
rules=$(realpath "$1") src=$(realpath "$2") roots=$(realpath "$3") cxx=$4
bad=0 pairs=0
# Quoted includes are looked up beside the including file first: compile from an empty
# directory, as a module's sources sit in their own directory, not at the tree's root.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
while IFS=: read -r m may; do
  [ -n "$m" ] || continue
  [ -d "$roots/$m" ] || { echo "no include root for $m in $roots"; exit 1; }
  while IFS=: read -r t _; do
    [ -n "$t" ] || continue
    h=$(cd "$src" && ls "$t"/*.h | head -n 1)
    case " $may " in *" $t "*) want=1 ;; *) want=0 ;; esac
    if ! printf '#if __has_include("%s") != %s\n#error %s sees %s: %s\n#endif\n' "$h" "$want" "$m" "$h" \
      "$([ $want = 1 ] && echo "it should" || echo "it must not")" |
      "$cxx" -E -x c++ -nostdinc -I "$roots/$m" -o /dev/null - 2>err.txt; then
      grep -o '#error.*' err.txt || cat err.txt
      bad=1
    fi
    pairs=$((pairs + 1))
  done <"$rules"
done <"$rules"
[ "$pairs" -gt 0 ] || { echo "no rules in $rules"; exit 1; }
[ $bad = 0 ] && echo "include roots: $pairs module pairs, each sees exactly what the rules allow"
exit $bad
