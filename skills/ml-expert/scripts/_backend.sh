# Sourced by the skill's scripts: finds the traindoc backend that install.sh set up, without activating anything.
# Sets TRAINDOC_BIN_DIR (a folder holding `traindoc` and `python`). Order, first hit wins:
#   1. $TRAINDOC_VENV                               an explicit override (a venv or any prefix with bin/traindoc)
#   2. <this skill>/../../traindoc/venv             what install.sh writes beside the skills/ folder it fills,
#                                                   i.e. ~/.claude/traindoc/venv or ./.claude/traindoc/venv
#   3. ${CLAUDE_CONFIG_DIR:-$HOME/.claude}/traindoc/venv   a user install, when the skill came from elsewhere
#                                                   (e.g. the plugin, or a --project copy without its own venv)
#   4. `traindoc` on PATH                           a plain `pip install traindoc`
# Path 2 is taken logically (cd -L), so a skill folder that --link made a symlink still finds its own install.
_traindoc_find_backend() {
    local here config_root candidate
    here="$(cd -L "$(dirname "${BASH_SOURCE[0]}")" && pwd -L)"
    config_root="$(cd -L "$here/../../.." 2>/dev/null && pwd -L)"
    for candidate in \
        "${TRAINDOC_VENV:-}" \
        "$config_root/traindoc/venv" \
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
    echo "traindoc backend not found (looked in \$TRAINDOC_VENV, $config_root/traindoc/venv," \
         "${CLAUDE_CONFIG_DIR:-$HOME/.claude}/traindoc/venv and PATH): run ./install.sh from the traindoc" \
         "repository, then retry" >&2
    return 2
}

# The interpreter of the backend (it has jsonschema and the traindoc package); python3 for a PATH install.
_traindoc_python() {
    if [ -x "$TRAINDOC_BIN_DIR/python" ]; then echo "$TRAINDOC_BIN_DIR/python"; else echo python3; fi
}
