#!/usr/bin/env bash
# The GitHub Action's one step (action.yml): lessons for a pull request's changes.
#
# Reads LESSONLENS_PATHS, LESSONLENS_BASE, LESSONLENS_FAIL_ON and LESSONLENS_SARIF, and GitHub's
# GITHUB_BASE_REF, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT. Writes annotations to stdout (they
# appear on the pull request's changed lines), the Markdown summary to the job summary, and the
# SARIF file; exits 1 only when a rule named in LESSONLENS_FAIL_ON fires on a changed line.
set -euo pipefail

read -r -a paths <<< "${LESSONLENS_PATHS:-.}"
base="${LESSONLENS_BASE:-}"
if [[ -z "$base" && -n "${GITHUB_BASE_REF:-}" ]]; then
  base="origin/${GITHUB_BASE_REF}"
  # actions/checkout fetches one commit by default: bring the base branch when it is missing.
  if ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
    git fetch --no-tags --quiet origin "+refs/heads/${GITHUB_BASE_REF}:refs/remotes/${base}"
  fi
fi
diff=()
if [[ -n "$base" ]]; then
  # The changes since the branch left the base, as a pull request shows them.
  diff=(--diff "$(git merge-base "$base" HEAD)")
fi
gate=()
for rule in ${LESSONLENS_FAIL_ON:-}; do
  gate+=(--fail-on "$rule")
done
sarif="${LESSONLENS_SARIF:-lessonlens.sarif}"

lessonlens check "${paths[@]}" "${diff[@]}" --format sarif --output "$sarif"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  echo "sarif=${sarif}" >> "$GITHUB_OUTPUT"
fi
# --format github prints the annotations and appends the Markdown summary to the job summary.
lessonlens check "${paths[@]}" "${diff[@]}" --format github "${gate[@]}"
