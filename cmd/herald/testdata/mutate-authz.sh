#!/usr/bin/env bash
# mutate-authz.sh: proves the access suite (cmd/herald/access_test.go)
# notices a missing check. Every guard call in authz/*.go — herald.Authorize,
# herald.AuthorizeProject, herald.AuthorizeUser, project, policyCheck,
# checkSettings, checkTemplates, find, dirCheck,
# pushCheck, scopedFilter, checkSpec, check — is one mutant: that one check
# removed (its error ignored; a guarded look-up replaced by the raw one; a
# scoped list filter passed through). The suite must go red for each.
#
# To compile once rather than 99 times, the mutants are built into a copy
# of the tree (never the working tree) as one schema: each site is guarded
# by `mutant() == K`, chosen at run time by HERALD_MUTANT=K. TestAccess then
# runs once per mutant, on SQLite only.
#
# Usage (from anywhere in the repository):
#   cmd/herald/testdata/mutate-authz.sh [out.md] [first] [last]
#   MUTANTS="3 4 31" cmd/herald/testdata/mutate-authz.sh out.md   (only these)
# Output: a Markdown table "| # | site | code | suite |" on stdout and in out.md.
set -u
root=$(git rev-parse --show-toplevel)
out=${1:-/dev/null}
first=${2:-1}
last=${3:-100000}
unset HERALD_TEST_POSTGRES_URL CI # SQLite only
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work")
cd "$work"

sites=$(grep -n -E 'herald\.Authorize\(|herald\.AuthorizeProject\(|herald\.AuthorizeUser\(|policyCheck\(ctx|(^|[^.a-zA-Z])project\(ctx|checkSettings\(ctx|checkTemplates\(ctx|\.find\(ctx|dirCheck\(ctx|pushCheck\(ctx|scopedFilter\(ctx|checkSpec\((t\.)?ctx|s\.check\(ctx' authz/*.go |
	grep -v -E '^[^:]+:[0-9]+:func ')

cat >authz/zz_mutant.go <<'GO'
package authz

import (
	"os"
	"strconv"
)

var mutantN, _ = strconv.Atoi(os.Getenv("HERALD_MUTANT"))

// mutant is the access check removed in this run (mutate-authz.sh).
func mutant() int { return mutantN }
GO

# receiver returns the receiver type of the method enclosing line n of file f.
receiver() { awk -v n="$2" 'NR<=n && /^func \(s [a-zA-Z]+\)/ { split($0, a, /[ ()]+/); r=a[3] } NR==n { print r; exit }' "$1"; }
raw() {
	case $(receiver "$1" "$2") in
	sources) echo 's.g.raw.Sources.FindSourceByID' ;;
	notifiers) echo 's.g.raw.Notifiers.FindNotifierByID' ;;
	deliveries) echo 's.g.raw.Deliveries.FindDeliveryByID' ;;
	esac
}

declare -a codes where
k=0
while IFS= read -r site; do
	k=$((k + 1))
	file=${site%%:*}
	rest=${site#*:}
	line=${rest%%:*}
	code=$(sed -n "${line}p" "$file" | sed -E 's/^[[:space:]]+//')
	codes[$k]=$code
	where[$k]="$file:$line"
	case "$code" in
	if\ *\;\ err\ !=\ nil\ {)
		# if err := check(...); err != nil {: the check's error is ignored.
		perl -i -pe "s/; err != nil \{\$/; err != nil \&\& mutant() != $k {/ if \$. == $line" "$file" ;;
	return\ s.find\(*)
		perl -i -pe "s/^(\s*)return s\.find\(ctx, [^,]+, ([^)]+)\)\$/\$1if mutant() == $k { return $(raw "$file" "$line")(ctx, \$2) }; \$&/ if \$. == $line" "$file" ;;
	return\ *)
		perl -i -pe "s/^(\s*)(return .*)\$/\$1if mutant() == $k { return nil }; \$2/ if \$. == $line" "$file" ;;
	*s.find\(*)
		perl -i -pe "s/^(\s*)(\w+), err := s\.find\(ctx, [^,]+, ([^)]+)\)\$/\$&; if mutant() == $k { \$2, err = $(raw "$file" "$line")(ctx, \$3) }/ if \$. == $line" "$file" ;;
	*scopedFilter\(*)
		perl -i -pe "s/^(\s*)(\w+), err := scopedFilter\(ctx, [^,]+, ([^)]+)\)\$/\$&; if mutant() == $k { \$2, err = \$3, nil }/ if \$. == $line" "$file" ;;
	p,\ err\ :=*)
		perl -i -pe "s/\$/; if mutant() == $k { p, err = herald.PrincipalFromContext(ctx), nil }/ if \$. == $line" "$file" ;;
	_,\ err\ :=*)
		perl -i -pe "s/\$/; if mutant() == $k { err = nil }/ if \$. == $line" "$file" ;;
	esac
	if ! grep -q "mutant() [!=]= $k " "$file"; then
		echo "site $k ($file:$line) was not mutated: $code" >&2
		exit 1
	fi
done <<<"$sites"

gofmt -l authz >/dev/null
if ! go vet ./authz/ || ! go test -c -o "$work/herald.test" ./cmd/herald/ >/dev/null; then
	echo "the mutant schema does not compile" >&2
	exit 1
fi
# The schema with no mutant chosen must pass: red then means the mutant.
cd cmd/herald
if ! HERALD_MUTANT=0 "$work/herald.test" -test.run '^TestAccess(_ServicesCheckThemselves)?$' -test.count=1 >"$work/base.log" 2>&1; then
	echo "TestAccess fails without a mutant:" >&2
	tail -30 "$work/base.log" >&2
	exit 1
fi

printf '| # | site | code | suite |\n|---|---|---|---|\n' | tee -a "$out"
list=${MUTANTS:-$(seq "$first" "$((k < last ? k : last))")}
for i in $list; do
	if HERALD_MUTANT=$i timeout 300 "$work/herald.test" -test.run '^TestAccess(_ServicesCheckThemselves)?$' -test.count=1 >"$work/run.log" 2>&1; then
		result="**green (gap)**"
	else
		n=$(grep -c -E 'access_test.go:[0-9]+:' "$work/run.log")
		result="red ($n failures)"
		grep -q 'panic:' "$work/run.log" && result="red (panic)"
	fi
	printf '| %d | %s | `%s` | %s |\n' "$i" "${where[$i]}" "${codes[$i]}" "$result" | tee -a "$out"
done
