#!/usr/bin/env bash
# Synthesizes the app offline for a disposable stage ("test") and a protected one ("prod": retained DLQs and log
# groups, longer retention, higher throttle) and runs cfn-lint and checkov on every template of both.
# cfn-lint: zero errors and zero warnings beyond .ci/cfn-lint.yaml. checkov: zero failures beyond the skipped checks
# documented in .ci/checkov.yaml. The validators live in a virtualenv (.ci/.venv, or $ORDERLINE_IAC_VENV) that is
# rebuilt only when .ci/iac-requirements.txt changes; pip's own cache (~/.cache/pip) makes a rebuild cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=.ci/venv.sh
. .ci/venv.sh
venv="${ORDERLINE_IAC_VENV:-.ci/.venv}"
ci_venv "$venv" .ci/iac-requirements.txt "template validators"
echo "$("$venv/bin/cfn-lint" --version), checkov $("$venv/bin/checkov" --version)"

out=.ci/templates
rm -rf "$out"
for stage in test prod; do
  npm run --silent synth -- "$stage" "$out/$stage" | tail -1
done
templates=("$out"/*/*.template.json)
echo "validating ${#templates[@]} templates: ${templates[*]}"

status=0
echo "--- cfn-lint"
"$venv/bin/cfn-lint" --config-file .ci/cfn-lint.yaml -- "${templates[@]}" || status=1
[[ $status -eq 0 ]] && echo "cfn-lint: no findings"
echo "--- checkov"
checkov_args=()
for template in "${templates[@]}"; do checkov_args+=(--file "$template"); done
"$venv/bin/checkov" --config-file .ci/checkov.yaml "${checkov_args[@]}" || status=1
exit "$status"
