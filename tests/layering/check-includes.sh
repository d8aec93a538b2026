#!/usr/bin/env bash
# Checks the project's include graph against the module dependency rules
# (docs/architecture.md): a module may include only its own headers and those of
# the modules listed for it. Prints each violation as file:line and exits 1.
# usage: check-includes.sh RULES ROOT        check the tree at ROOT
#        check-includes.sh RULES --self-test plant violations in a temporary tree and
#                                            require the check to report each of them
# RULES: lines "module: modules it may include", written by the top CMakeLists.txt from
# the table the build enforces (runvm_module_includes), so both read one table.
set -euo pipefail

rules=${1:?usage: check-includes.sh RULES ROOT | RULES --self-test}
shift
declare -A allowed=()
modules=""
while IFS=: read -r m may; do
  [ -n "$m" ] || continue
  allowed[$m]=$may
  modules="$modules $m"
done <"$rules"
modules=${modules# }
[ -n "$modules" ] || { echo "no rules in $rules"; exit 1; }

check() {
  local root=$1 bad=0 m file line target
  for m in $modules; do
    [ -d "$root/$m" ] || continue
    # Every `#include "<module>/...` of a source or header under $m.
    while IFS=: read -r file line target; do
      target=${target#*\"}
      target=${target%%/*}
      case " $modules " in *" $target "*) ;; *) continue ;; esac
      case " ${allowed[$m]} " in
        *" $target "*) ;;
        *) echo "${file#"$root"/}:$line: $m may not include $target/ (allowed: ${allowed[$m]})"; bad=1 ;;
      esac
    done < <(grep -rnE --include='*.h' --include='*.cpp' --include='*.c' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z-]+/' "$root/$m" || true)
  done
  return $bad
}

if [ "${1:-}" = --self-test ]; then
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  mkdir -p "$t"/{base,oci,vmm,agent,guest-init,runtime}
  printf '#include "base/result.h"\n#include "oci/spec.h"\n' >"$t/vmm/planted.cpp"
  printf '#include "runtime/cli.h"\n' >"$t/oci/planted.h"
  printf '#include "vmm/kvm/kvm.h"\n' >"$t/runtime/planted.cpp"
  printf '#include "agent/protocol.h"\n#include "oci/spec.h"\n' >"$t/guest-init/fine.cpp"
  if out=$(check "$t"); then echo "self-test: planted violations were not reported"; exit 1; fi
  for want in "vmm/planted.cpp:2: vmm may not include oci/" "oci/planted.h:1: oci may not include runtime/" \
              "runtime/planted.cpp:1: runtime may not include vmm/"; do
    grep -qF "$want" <<<"$out" || { echo "self-test: missing '$want' in: $out"; exit 1; }
  done
  if grep -q fine.cpp <<<"$out"; then echo "self-test: an allowed include was reported: $out"; exit 1; fi
  echo "self-test: all 3 planted violations reported, the allowed includes were not"
  exit 0
fi

root=${1:?usage: check-includes.sh RULES ROOT | RULES --self-test}
if check "$root"; then
  echo "include graph: every module includes only what it may ($modules)"
else
  exit 1
fi
