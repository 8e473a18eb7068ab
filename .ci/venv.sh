# Sourced by the CI steps that run Python tools from PyPI. `ci_venv DIR REQUIREMENTS LABEL` makes DIR a virtualenv
# with exactly REQUIREMENTS installed, rebuilt only when that file changes (pip's own cache keeps a rebuild cheap).
ci_venv() {
  local venv="$1" requirements="$2" label="$3"
  local stamp="$venv/.requirements.sha256" wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  command -v python3 >/dev/null || { echo "python3 with venv is needed (Debian: apt-get install python3-venv)"; return 1; }
  if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    echo "installing $label into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
  fi
}
