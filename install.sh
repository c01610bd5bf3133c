#!/usr/bin/env bash
# install.sh: install the traindoc skills (/ml-training-debugger, /ml-expert), their subagents and the Python
# backend they call, for Claude Code.
#
#   ./install.sh                 install into ${CLAUDE_CONFIG_DIR:-$HOME/.claude}
#   ./install.sh --project       install into ./.claude (this project only; the backend venv goes outside it)
#   ./install.sh --target DIR    install into DIR
#   ./install.sh --link          development: symlink the skill folders and agents, editable backend
#   ./install.sh --dry-run       print every action, change nothing
#   ./install.sh --force         replace same-named skills/agents we did not install (after backing them up)
#   ./install.sh --uninstall     remove exactly what the manifest says we installed
#   ./install.sh --no-backend    skills and agents only: traindoc is already installed (pip install), on PATH
#
# What lands in the target (TARGET):
#   TARGET/skills/ml-training-debugger/, TARGET/skills/ml-expert/     one folder per skill: the commands are the
#                                                                      folder names, with no plugin prefix
#   TARGET/agents/ml-*.md                                              the specialist subagents
#   TARGET/traindoc/venv/                                              the backend: a venv with traindoc and its
#                                                                      core deps only (numpy, pyyaml, jinja2,
#                                                                      jsonschema; no torch)
#   TARGET/traindoc/bin/traindoc                                       a launcher for use outside Claude Code
#   TARGET/traindoc/install-manifest                                   what was installed, for --uninstall;
#                                                                      written before anything is copied
# The skills' scripts/traindoc finds TARGET/traindoc/venv relative to itself, so nothing needs activating.
# With --project, TARGET/traindoc/venv is a symlink to ${XDG_DATA_HOME:-~/.local/share}/traindoc/venvs/<project>-<id>
# (~110 MB that must not land in the repository), and /.claude/traindoc/ is added to the project's .gitignore.
#
# The Claude Code plugin (claude plugin install traindoc@traindoc-marketplace) needs none of this: it sets up its
# own backend on first use. install.sh refuses to install a second copy next to it (--force overrides).
#
# Environment: PYTHON (interpreter to build the venv from, default: the newest python3.x >= 3.10 on PATH),
# TRAINDOC_INSTALL_MIN_FREE_MB (free space required in TARGET, default 400).
# Exit status: 0 done (or nothing to do), 1 failure (one clear line on stderr), 2 bad arguments.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SKILLS=(ml-training-debugger ml-expert)
MIN_PY_MINOR=10
MIN_FREE_MB="${TRAINDOC_INSTALL_MIN_FREE_MB:-400}"  # venv + numpy + jsonschema is ~150 MB; keep a margin

TARGET="" ; MODE=copy ; DRY=0 ; FORCE=0 ; ACTION=install ; BACKEND=1 ; PROJECT=0

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "$*"; }
# run CMD...: print it, and execute it unless --dry-run
run() { if [ "$DRY" = 1 ]; then echo "  would run: $*"; else "$@"; fi; }

while [ $# -gt 0 ]; do
    case "$1" in
        --project) TARGET="$PWD/.claude"; PROJECT=1 ;;
        --target) [ $# -ge 2 ] || { echo "install.sh: --target needs a folder" >&2; exit 2; }
                  TARGET="$2"; shift ;;
        --target=*) TARGET="${1#--target=}" ;;
        --link) MODE=link ;;
        --dry-run) DRY=1 ;;
        --force) FORCE=1 ;;
        --uninstall) ACTION=uninstall ;;
        --no-backend) BACKEND=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
TARGET="${TARGET:-${CLAUDE_CONFIG_DIR:-$HOME/.claude}}"
case "$TARGET" in /*) ;; *) TARGET="$PWD/$TARGET" ;; esac
TD="$TARGET/traindoc"
MANIFEST="$TD/install-manifest"
MARKER=".traindoc-install"  # written inside each copied skill folder: proves the folder is ours

VERSION="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$SRC/pyproject.toml" | head -n1)"
[ -n "$VERSION" ] || die "cannot read the version from $SRC/pyproject.toml (run install.sh from the repository)"

VENVS_HOME="${XDG_DATA_HOME:-$HOME/.local/share}/traindoc/venvs"  # where --project venvs live, outside the project

manifest_get() { [ -f "$MANIFEST" ] && sed -n "s/^$1 //p" "$MANIFEST" | head -n1 || true; }
manifest_has() { [ -f "$MANIFEST" ] && grep -qxF "$1 $2" "$MANIFEST"; }

# ---------------------------------------------------------------------------------------------- uninstall
if [ "$ACTION" = uninstall ]; then
    say "traindoc $VERSION: uninstalling from $TARGET"
    [ "$DRY" = 1 ] && say "  (dry run: nothing will be removed)"
    [ -f "$MANIFEST" ] || { say "nothing to uninstall: no manifest at $MANIFEST"; exit 0; }
    while read -r kind path; do
        case "$kind" in
            skill|agent|file|dir) full="$TARGET/$path" ;;
            external)  # a --project venv kept outside the project: only ever under our own data folder
                case "$path" in "$VENVS_HOME"/*) full="$path" ;; *) say "won't remove $path: outside $VENVS_HOME"; continue ;; esac ;;
            *) continue ;;
        esac
        if [ "$kind" = skill ] && [ -d "$full" ] && [ ! -L "$full" ] && [ ! -f "$full/$MARKER" ]; then
            say "won't remove $full: it no longer carries traindoc's marker (replaced by someone else?)"
        elif [ -L "$full" ] || [ -e "$full" ]; then
            say "remove $full"
            run rm -rf "$full"
        else
            say "already gone: $full"
        fi
    done < "$MANIFEST"
    say "remove $MANIFEST"
    run rm -f "$MANIFEST"
    if [ "$DRY" = 1 ]; then
        say "dry run complete: nothing was removed"
        exit 0
    fi
    rmdir "$TD" 2>/dev/null || say "kept $TD: it holds files traindoc did not install"
    for d in "$TARGET/skills" "$TARGET/agents"; do rmdir "$d" 2>/dev/null || true; done
    say "traindoc $VERSION uninstalled (backups from --force, if any, are kept in $TARGET/traindoc-backups)"
    exit 0
fi

# ---------------------------------------------------------------------------------------------- preflight
# The interpreter: $PYTHON, else the newest python3.x >= 3.10 on PATH, else python3.
find_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    local v
    for v in 3.14 3.13 3.12 3.11 3.10; do
        # a candidate must really run: version-manager shims (pyenv) exist for versions not installed
        if command -v "python$v" >/dev/null 2>&1 && "python$v" -c 'import sys' >/dev/null 2>&1; then
            echo "python$v"; return
        fi
    done
    echo python3
}
PY="$(find_python)"
command -v "$PY" >/dev/null 2>&1 || die "no Python found ('$PY'): install Python 3.$MIN_PY_MINOR or newer, or set PYTHON=/path/to/python3"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
    || die "'$PY' does not run as Python: set PYTHON=/path/to/python3.$MIN_PY_MINOR+"
case "$PYVER" in
    3.*) [ "${PYVER#3.}" -ge "$MIN_PY_MINOR" ] 2>/dev/null \
            || die "traindoc needs Python 3.$MIN_PY_MINOR or newer, '$PY' is $PYVER: set PYTHON=/path/to/python3.$MIN_PY_MINOR+" ;;
    *) die "traindoc needs Python 3.$MIN_PY_MINOR or newer, '$PY' is $PYVER" ;;
esac
"$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 \
    || die "Python $PYVER ('$PY') has no working venv module: install it (Debian/Ubuntu: apt-get install python$PYVER-venv) or set PYTHON to another interpreter"

say "traindoc $VERSION ($MODE install, Python $PYVER) into $TARGET"
if [ -f "$MANIFEST" ]; then
    old="$(manifest_get version)"
    if [ "$old" = "$VERSION" ]; then say "  installed version: $old (re-installing the same version)"
    elif [ -n "$old" ] && [ "$(printf '%s\n%s\n' "$old" "$VERSION" | sort -V | head -n1)" = "$old" ]; then
        say "  upgrading from $old"
    else say "  downgrading from $old"; fi
fi
[ "$DRY" = 1 ] && say "  (dry run: nothing will be changed)"

# free space, measured on the nearest existing ancestor of the target
probe="$TARGET"; while [ ! -d "$probe" ]; do probe="$(dirname "$probe")"; done
free_mb="$(df -Pk "$probe" | awk 'NR==2 {print int($4/1024)}')"
[ "${free_mb:-0}" -ge "$MIN_FREE_MB" ] \
    || die "not enough disk space in $probe: ${free_mb:-?} MB free, the backend needs about $MIN_FREE_MB MB"

for s in "${SKILLS[@]}"; do
    [ -f "$SRC/skills/$s/SKILL.md" ] || die "missing $SRC/skills/$s/SKILL.md: run install.sh from a complete checkout"
done

# ---------------------------------------------------------------------------------------------- ownership
NEW_MANIFEST=()
record() { NEW_MANIFEST+=("$1 $2"); }
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
BACKUP="$TARGET/traindoc-backups/$STAMP"

# ours PATH KIND REL: is the existing PATH something we installed (so we may replace or remove it)?
ours() {
    local path="$1" kind="$2" rel="$3"
    manifest_has "$kind" "$rel" && return 0
    [ -f "$path/$MARKER" ] && return 0
    [ -L "$path" ] && case "$(readlink "$path")" in "$SRC"/*) return 0 ;; esac
    return 1
}

# is_foreign PATH: the preflight below found PATH in the way and not ours
is_foreign() { local x; for x in "${foreign[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

# make_room PATH REL: PATH may be written; a foreign PATH (only reachable with --force) is backed up first.
make_room() {
    local path="$1" rel="$2"
    is_foreign "$path" || return 0
    say "  backing up $path to $BACKUP/$rel"
    run mkdir -p "$(dirname "$BACKUP/$rel")"
    run mv "$path" "$BACKUP/$rel"
}

# ---------------------------------------------------------------------------------------------- plugin
# The plugin and an install.sh copy side by side give every skill twice (/ml-expert and /traindoc:ml-expert).
PLUGINS_JSON="${CLAUDE_CONFIG_DIR:-$HOME/.claude}/plugins/installed_plugins.json"
case "$SRC" in
    */plugins/cache/*) [ "$FORCE" = 1 ] || die "this is the Claude Code plugin's own copy ($SRC): the plugin sets up its backend on first use, nothing to install" ;;
esac
if [ -f "$PLUGINS_JSON" ] && grep -q '"traindoc@' "$PLUGINS_JSON"; then
    plugin_id="$(grep -o '"traindoc@[^"]*"' "$PLUGINS_JSON" | head -n1 | tr -d '"')"
    if [ "$FORCE" != 1 ]; then
        die "traindoc is already installed as the Claude Code plugin $plugin_id (skills /traindoc:ml-training-debugger and /traindoc:ml-expert; it sets up its own backend on first use). Installing here too would give every skill twice: use the plugin, or remove it first (claude plugin uninstall $plugin_id), or re-run with --force"
    fi
    say "  note: the plugin $plugin_id is installed too (--force): each skill will appear twice"
fi

# ---------------------------------------------------------------------------------------------- plan
# Everything this run will own, known before anything is written: every target is checked first (one foreign
# folder stops the install before a single file is copied), and the manifest is written next, so an install
# interrupted half way can still be uninstalled.
AGENT_FILES=()
for f in "$SRC"/agents/*.md; do [ -e "$f" ] && AGENT_FILES+=("$f"); done
foreign=()
for s in "${SKILLS[@]}"; do
    record skill "skills/$s"
    p="$TARGET/skills/$s"
    if { [ -e "$p" ] || [ -L "$p" ]; } && ! ours "$p" skill "skills/$s"; then foreign+=("$p"); fi
done
for f in "${AGENT_FILES[@]}"; do
    rel="agents/$(basename "$f")"
    record agent "$rel"
    p="$TARGET/$rel"
    if { [ -e "$p" ] || [ -L "$p" ]; } && ! cmp -s "$f" "$p" && ! ours "$p" agent "$rel"; then foreign+=("$p"); fi
done
VENV="$TD/venv"
if [ "$BACKEND" = 1 ] && { [ -e "$VENV" ] || [ -L "$VENV" ]; } && ! manifest_has dir traindoc/venv; then foreign+=("$VENV"); fi
if [ "${#foreign[@]}" -gt 0 ] && [ "$FORCE" != 1 ]; then
    die "${foreign[*]}: not installed by traindoc: move it away, or re-run with --force to replace it (backed up first); nothing was changed"
fi
if [ "$BACKEND" = 1 ]; then
    record dir traindoc/venv
    record dir traindoc/bin
    if [ "$PROJECT" = 1 ]; then
        project_id="$(printf '%s' "$PWD" | sha256sum | cut -c1-12)"
        VENV="$VENVS_HOME/$(basename "$PWD" | tr -c 'A-Za-z0-9._\n-' '_')-$project_id"
        record external "$VENV"
    fi
elif manifest_has dir traindoc/venv; then
    record dir traindoc/venv; record dir traindoc/bin  # keep owning a backend an earlier run installed
    ext="$(manifest_get external)"; [ -n "$ext" ] && record external "$ext"
fi

write_manifest() {  # write_manifest STATE [BACKEND-LINE]
    [ "$DRY" = 0 ] || return 0
    mkdir -p "$TD"
    {
        echo "# traindoc install manifest: install.sh --uninstall removes exactly the skill/agent/file/dir/external lines"
        echo "version $VERSION"
        echo "mode $MODE"
        echo "source $SRC"
        echo "installed $STAMP"
        echo "state $1"
        [ -n "${2:-}" ] && echo "backend $2"
        printf '%s\n' "${NEW_MANIFEST[@]}"
        # while installing, keep what an earlier install owned too: an interruption must not orphan it
        if [ "$1" = installing ] && [ -f "$MANIFEST" ]; then grep -E '^(skill|agent|file|dir|external) ' "$MANIFEST" || true; fi
    } | awk '!seen[$0]++' > "$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
}
write_manifest installing "$(manifest_get backend)"

# ---------------------------------------------------------------------------------------------- skills, agents
run mkdir -p "$TARGET/skills" "$TARGET/agents" "$TD"

install_skill() {
    local s="$1" dest="$TARGET/skills/$1" rel="skills/$1"
    make_room "$dest" "$rel"
    if [ "$MODE" = link ]; then
        if [ -L "$dest" ] && [ "$(readlink "$dest")" = "$SRC/skills/$s" ]; then say "  /$s: link up to date"; return; fi
        say "  /$s: link $dest -> $SRC/skills/$s"
        run rm -rf "$dest"
        run ln -s "$SRC/skills/$s" "$dest"
        return
    fi
    # copy: identical content (ignoring our marker) means nothing to do
    if [ -d "$dest" ] && [ ! -L "$dest" ] && diff -r -q -x "$MARKER" -x __pycache__ "$SRC/skills/$s" "$dest" >/dev/null 2>&1; then
        say "  /$s: up to date"
        return
    fi
    say "  /$s: copy to $dest"
    # stage next to the destination, then swap: a crash never leaves a half-copied skill in place
    local tmp="$TARGET/skills/.$s.tmp.$$"
    run rm -rf "$tmp"
    run cp -R "$SRC/skills/$s" "$tmp"
    run find "$tmp" -name __pycache__ -prune -exec rm -rf {} +
    if [ "$DRY" = 0 ]; then echo "traindoc $VERSION from $SRC" > "$tmp/$MARKER"; fi
    run rm -rf "$dest"
    run mv "$tmp" "$dest"
}

install_agent() {
    local f="$1" name dest rel
    name="$(basename "$f")"; dest="$TARGET/agents/$name"; rel="agents/$name"
    if [ -f "$dest" ] && [ ! -L "$dest" ] && [ "$MODE" = copy ] && cmp -s "$f" "$dest"; then
        say "  agent $name: up to date"; return
    fi
    make_room "$dest" "$rel"
    say "  agent $name: $MODE to $dest"
    run rm -f "$dest"
    if [ "$MODE" = link ]; then run ln -s "$f" "$dest"; else run cp "$f" "$dest"; fi
}

for s in "${SKILLS[@]}"; do install_skill "$s"; done
for f in "${AGENT_FILES[@]}"; do install_agent "$f"; done

# ---------------------------------------------------------------------------------------------- backend
# --project in a git repository: the machine-specific part (manifest, venv link, launcher) stays out of commits.
project_gitignore() {
    local line="/.claude/traindoc/"
    git -C "$PWD" rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
    if [ -f "$PWD/.gitignore" ] && grep -qxF "$line" "$PWD/.gitignore"; then return 0; fi
    say "  adding $line to $PWD/.gitignore"
    if [ "$DRY" = 0 ]; then printf '%s\n' "$line" >> "$PWD/.gitignore"; fi
}

backend_install() {
    # Re-installing is skipped when the venv already holds this exact source (hash of the package sources and
    # pyproject.toml) and still runs: re-runs are fast and idempotent.
    src_hash() {
        (cd "$SRC" && find pyproject.toml src -type f \( -name '*.py' -o -name '*.json' -o -name '*.toml' \
            -o -name '*.yaml' -o -name '*.j2' -o -name '*.html' -o -name '*.css' -o -name '*.js' \) \
            -not -path '*/__pycache__/*' -not -path '*.egg-info/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
    }
    HASH="$(src_hash)"
    if [ -x "$VENV/bin/traindoc" ] && [ "$(manifest_get backend)" = "$MODE $HASH" ] \
            && "$VENV/bin/traindoc" --version >/dev/null 2>&1; then
        say "  backend: up to date ($VENV)"
    else
        say "  backend: $VENV (core dependencies only, no torch)"
        make_room "$TD/venv" traindoc/venv
        run rm -rf "$VENV"
        run "$PY" -m venv "$VENV" || die "could not create a venv at $VENV with '$PY' (python3-venv missing, or disk full?)"
        PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
        if [ "$MODE" = link ]; then
            run "${PIP[@]}" -e "$SRC" || die "pip could not install the backend from $SRC (editable); see the messages above"
        else
            # build from a clean staging copy: nothing is written into the checkout, and nothing large (.venv,
            # runs) is copied into the build
            stage="$SRC"
            if [ "$DRY" = 0 ]; then
                stage="$(mktemp -d "${TMPDIR:-/tmp}/traindoc-build.XXXXXX")"
                trap 'rm -rf "$stage"' EXIT
                cp "$SRC/pyproject.toml" "$SRC/README.md" "$stage/"
                cp -R "$SRC/src" "$stage/src"
                find "$stage/src" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} + 2>/dev/null || true
            fi
            run "${PIP[@]}" "$stage" || die "pip could not install the backend (needs numpy, pyyaml, jinja2, jsonschema from your package index); see the messages above"
        fi
        if [ "$DRY" = 0 ]; then
            "$VENV/bin/traindoc" --version >/dev/null 2>&1 || die "the backend was installed but '$VENV/bin/traindoc --version' fails"
        fi
    fi
    if [ "$VENV" != "$TD/venv" ]; then  # --project: the venv lives outside the project, a link points to it
        say "  backend venv kept outside the project: $VENV (linked from $TD/venv)"
        run rm -rf "$TD/venv"
        run ln -s "$VENV" "$TD/venv"
        project_gitignore
    fi
    run mkdir -p "$TD/bin"
    if [ "$DRY" = 0 ]; then
        printf '%s\n' '#!/usr/bin/env bash' \
            "# traindoc launcher written by install.sh $VERSION: put $TD/bin on PATH to use traindoc in any shell." \
            "exec \"$VENV/bin/traindoc\" \"\$@\"" > "$TD/bin/traindoc"
        chmod +x "$TD/bin/traindoc"
    fi
}
if [ "$BACKEND" = 1 ]; then
    backend_install
elif manifest_has dir traindoc/venv; then
    say "  backend: left as installed earlier (--no-backend)"
elif command -v traindoc >/dev/null 2>&1; then
    say "  backend: not installed (--no-backend); the skills will use $(command -v traindoc)"
else
    say "  backend: not installed (--no-backend) and no traindoc on PATH: the skills need one (pip install traindoc)"
fi

# ---------------------------------------------------------------------------------------------- manifest
if [ -n "${HASH:-}" ]; then write_manifest complete "$MODE $HASH"; else write_manifest complete "$(manifest_get backend)"; fi

if [ "$DRY" = 1 ]; then
    say "dry run complete: nothing was changed"
else
    say "traindoc $VERSION installed: skills /ml-training-debugger and /ml-expert, backend $("$TD/venv/bin/traindoc" --version 2>/dev/null || echo 'from PATH')"
    say "Restart Claude Code (or start a new session), then type /ml-training-debugger in a folder with a training run."
fi
