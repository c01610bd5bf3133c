# Sourced by the skill's scripts: finds the traindoc backend, without activating anything, and sets it up on first
# use when the skill came from the Claude Code plugin. Sets TRAINDOC_BIN_DIR (a folder holding `traindoc` and
# `python`). Order, first hit wins:
#   1. $TRAINDOC_VENV                               an explicit override (a venv or any prefix with bin/traindoc)
#   2. <this skill>/../../traindoc/venv             what install.sh writes beside the skills/ folder it fills,
#                                                   i.e. ~/.claude/traindoc/venv or the --project venv it points to
#   3. the plugin's own backend                     ${CLAUDE_PLUGIN_DATA:-<plugin root>/.traindoc-backend}/venv,
#                                                   built from <plugin root> on first use (see _traindoc_bootstrap)
#   4. ${CLAUDE_CONFIG_DIR:-$HOME/.claude}/traindoc/venv   a user install, when the skill came from elsewhere
#   5. `traindoc` on PATH                           a plain `pip install traindoc`
# Path 2 is taken logically (cd -L), so a skill folder that --link made a symlink still finds its own install.
#
# Exit status when nothing is found and nothing can be built: 69 (EX_UNAVAILABLE of sysexits.h), so the skill can
# tell "backend missing" apart from traindoc's own 2 (bad input) and 3 (insufficient data).
TRAINDOC_EXIT_NO_BACKEND=69

_traindoc_here() { cd -L "$(dirname "${BASH_SOURCE[0]}")" && pwd -L; }

# The plugin root when this skill runs from the Claude Code plugin (skills/<name>/scripts/ three levels below a
# folder holding .claude-plugin/plugin.json and the backend's pyproject.toml), else nothing.
_traindoc_plugin_root() {
    local root="${CLAUDE_PLUGIN_ROOT:-}"
    if [ -z "$root" ]; then root="$(cd -L "$(_traindoc_here)/../../.." 2>/dev/null && pwd -L)"; fi
    if [ -f "$root/.claude-plugin/plugin.json" ] && [ -f "$root/pyproject.toml" ] && [ -d "$root/src/traindoc" ]; then
        echo "$root"
    fi
}

_traindoc_plugin_venv() { echo "${CLAUDE_PLUGIN_DATA:-$1/.traindoc-backend}/venv"; }

# Build the plugin's backend venv from the plugin's own copy of the package (core dependencies only, no torch).
# Once: a lock folder keeps two first uses from building at the same time, and a half-built venv is removed.
_traindoc_bootstrap() {
    local root="$1" venv py lock i stage candidate got
    venv="$(_traindoc_plugin_venv "$root")"
    lock="$venv.lock"
    mkdir -p "$(dirname "$venv")" || return 1
    got=0
    for i in $(seq 1 600); do  # another first use is building: wait for it (up to 10 min), then reuse its venv
        if mkdir "$lock" 2>/dev/null; then got=1; break; fi
        sleep 1
    done
    if [ "$got" = 0 ]; then
        echo "traindoc: another process has been building the backend for 10 minutes ($lock); remove that folder if it died" >&2
        return 1
    fi
    if [ ! -x "$venv/bin/traindoc" ]; then
        py=""
        for candidate in python3.14 python3.13 python3.12 python3.11 python3.10 python3; do
            if command -v "$candidate" >/dev/null 2>&1 \
               && "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
                py="$candidate"; break
            fi
        done
        if [ -z "$py" ]; then
            echo "traindoc: first use of the plugin, but no Python >= 3.10 with the venv module was found" >&2
            rmdir "$lock"; return 1
        fi
        echo "traindoc: first use of the plugin: building its backend in $venv (about a minute, once)" >&2
        rm -rf "$venv"
        # build from a staged copy of the package: pip writes nothing into the plugin's own folder
        stage="$(mktemp -d "${TMPDIR:-/tmp}/traindoc-build.XXXXXX")" || { rmdir "$lock"; return 1; }
        cp "$root/pyproject.toml" "$root/README.md" "$stage/" 2>/dev/null
        cp -R "$root/src" "$stage/src"
        if ! { "$py" -m venv "$venv" >&2 && "$venv/bin/python" -m pip install -q --disable-pip-version-check \
               "$stage" >&2; }; then
            rm -rf "$venv" "$stage"
            echo "traindoc: building the plugin's backend failed (see pip's message above)" >&2
            rmdir "$lock"; return 1
        fi
        rm -rf "$stage"
        echo "traindoc: backend ready" >&2
    fi
    rmdir "$lock"
}

_traindoc_find_backend() {
    local here config_root plugin_root candidate
    here="$(_traindoc_here)"
    config_root="$(cd -L "$here/../../.." 2>/dev/null && pwd -L)"
    plugin_root="$(_traindoc_plugin_root)"
    for candidate in \
        "${TRAINDOC_VENV:-}" \
        "$config_root/traindoc/venv" \
        "${plugin_root:+$(_traindoc_plugin_venv "$plugin_root")}" \
        "${CLAUDE_CONFIG_DIR:-$HOME/.claude}/traindoc/venv"; do
        if [ -n "$candidate" ] && [ -x "$candidate/bin/traindoc" ] && [ -x "$candidate/bin/python" ]; then
            TRAINDOC_BIN_DIR="$candidate/bin"
            return 0
        fi
    done
    if command -v traindoc >/dev/null 2>&1; then
        TRAINDOC_BIN_DIR="$(dirname "$(command -v traindoc)")"
        return 0
    fi
    if [ -n "$plugin_root" ] && _traindoc_bootstrap "$plugin_root"; then
        TRAINDOC_BIN_DIR="$(_traindoc_plugin_venv "$plugin_root")/bin"
        return 0
    fi
    echo "traindoc backend not found (looked in \$TRAINDOC_VENV, $config_root/traindoc/venv," \
         "${CLAUDE_CONFIG_DIR:-$HOME/.claude}/traindoc/venv and PATH): run ./install.sh from the traindoc" \
         "repository, or install the traindoc plugin, then retry" >&2
    return "$TRAINDOC_EXIT_NO_BACKEND"
}

# The interpreter of the backend (it has jsonschema and the traindoc package); python3 for a PATH install.
_traindoc_python() {
    if [ -x "${TRAINDOC_BIN_DIR:-}/python" ]; then echo "$TRAINDOC_BIN_DIR/python"; else echo python3; fi
}
