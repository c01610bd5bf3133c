#!/usr/bin/env bash
# install.sh: install the traindoc skills (/ml-training-debugger, /ml-expert), their subagents and the Python
# backend they call, for Claude Code.
#
#   ./install.sh                 install into ${CLAUDE_CONFIG_DIR:-$HOME/.claude}
#   ./install.sh --project       install into ./.claude (this project only)
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
#   TARGET/traindoc/install-manifest                                   what was installed, for --uninstall
# The skills' scripts/traindoc finds TARGET/traindoc/venv relative to itself, so nothing needs activating.
#
# Environment: PYTHON (interpreter to build the venv from, default: the newest python3.x >= 3.10 on PATH),
# TRAINDOC_INSTALL_MIN_FREE_MB (free space required in TARGET, default 400).
# Exit status: 0 done (or nothing to do), 1 failure (one clear line on stderr), 2 bad arguments.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SKILLS=(ml-training-debugger ml-expert)
MIN_PY_MINOR=10
MIN_FREE_MB="${TRAINDOC_INSTALL_MIN_FREE_MB:-400}"  # venv + numpy + jsonschema is ~150 MB; keep a margin

TARGET="" ; MODE=copy ; DRY=0 ; FORCE=0 ; ACTION=install ; BACKEND=1

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install.sh: error: $*" >&2; exit 1; }
say() { echo "$*"; }
# run CMD...: print it, and execute it unless --dry-run
run() { if [ "$DRY" = 1 ]; then echo "  would run: $*"; else "$@"; fi; }

while [ $# -gt 0 ]; do
    case "$1" in
        --project) TARGET="$PWD/.claude" ;;
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

manifest_get() { [ -f "$MANIFEST" ] && sed -n "s/^$1 //p" "$MANIFEST" | head -n1 || true; }
manifest_has() { [ -f "$MANIFEST" ] && grep -qxF "$1 $2" "$MANIFEST"; }

# ---------------------------------------------------------------------------------------------- uninstall
if [ "$ACTION" = uninstall ]; then
    say "traindoc $VERSION: uninstalling from $TARGET"
    [ -f "$MANIFEST" ] || { say "nothing to uninstall: no manifest at $MANIFEST"; exit 0; }
    while read -r kind path; do
        case "$kind" in skill|agent|file|dir) ;; *) continue ;; esac
        full="$TARGET/$path"
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
    if [ "$DRY" = 0 ]; then
        rmdir "$TD" 2>/dev/null || say "kept $TD: it holds files traindoc did not install"
        for d in "$TARGET/skills" "$TARGET/agents"; do rmdir "$d" 2>/dev/null || true; done
    fi
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

# make_room PATH KIND REL: PATH may be written; an existing foreign PATH is backed up with --force, else fatal.
make_room() {
    local path="$1" kind="$2" rel="$3"
    if [ ! -e "$path" ] && [ ! -L "$path" ]; then return 0; fi
    ours "$path" "$kind" "$rel" && return 0
    if [ "$FORCE" != 1 ]; then
        die "$path exists and was not installed by traindoc: move it away, or re-run with --force to replace it (it is backed up first)"
    fi
    say "  backing up $path to $BACKUP/$rel"
    run mkdir -p "$(dirname "$BACKUP/$rel")"
    run mv "$path" "$BACKUP/$rel"
}

# ---------------------------------------------------------------------------------------------- skills, agents
run mkdir -p "$TARGET/skills" "$TARGET/agents" "$TD"

install_skill() {
    local s="$1" dest="$TARGET/skills/$1" rel="skills/$1"
    make_room "$dest" skill "$rel"
    record skill "$rel"
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
        record agent "$rel"; say "  agent $name: up to date"; return
    fi
    make_room "$dest" agent "$rel"
    record agent "$rel"
    say "  agent $name: $MODE to $dest"
    run rm -f "$dest"
    if [ "$MODE" = link ]; then run ln -s "$f" "$dest"; else run cp "$f" "$dest"; fi
}

for s in "${SKILLS[@]}"; do install_skill "$s"; done
for f in "$SRC"/agents/*.md; do [ -e "$f" ] && install_agent "$f"; done

# ---------------------------------------------------------------------------------------------- backend
backend_install() {
    # Re-installing is skipped when the venv already holds this exact source (hash of the package sources and
    # pyproject.toml) and still runs: re-runs are fast and idempotent.
    src_hash() {
        (cd "$SRC" && find pyproject.toml src -type f \( -name '*.py' -o -name '*.json' -o -name '*.toml' \
            -o -name '*.yaml' -o -name '*.j2' -o -name '*.html' -o -name '*.css' -o -name '*.js' \) \
            -not -path '*/__pycache__/*' -not -path '*.egg-info/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
    }
    HASH="$(src_hash)"
    VENV="$TD/venv"
    record dir traindoc/venv
    record dir traindoc/bin
    if [ -x "$VENV/bin/traindoc" ] && [ "$(manifest_get backend)" = "$MODE $HASH" ] \
            && "$VENV/bin/traindoc" --version >/dev/null 2>&1; then
        say "  backend: up to date ($VENV)"
    else
        say "  backend: $VENV (core dependencies only, no torch)"
        if [ -e "$VENV" ] && ! [ -f "$MANIFEST" ]; then make_room "$VENV" dir traindoc/venv; fi
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
    record dir traindoc/venv; record dir traindoc/bin  # keep owning a backend an earlier run installed
    say "  backend: left as installed earlier (--no-backend)"
elif command -v traindoc >/dev/null 2>&1; then
    say "  backend: not installed (--no-backend); the skills will use $(command -v traindoc)"
else
    say "  backend: not installed (--no-backend) and no traindoc on PATH: the skills need one (pip install traindoc)"
fi

# ---------------------------------------------------------------------------------------------- manifest
if [ "$DRY" = 0 ]; then
    {
        echo "# traindoc install manifest: install.sh --uninstall removes exactly the skill/agent/file/dir lines"
        echo "version $VERSION"
        echo "mode $MODE"
        echo "source $SRC"
        echo "installed $STAMP"
        if [ -n "${HASH:-}" ]; then echo "backend $MODE $HASH"
        elif [ -n "$(manifest_get backend)" ]; then echo "backend $(manifest_get backend)"; fi
        printf '%s\n' "${NEW_MANIFEST[@]}"
    } > "$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
fi

if [ "$DRY" = 1 ]; then
    say "dry run complete: nothing was changed"
else
    say "traindoc $VERSION installed: skills /ml-training-debugger and /ml-expert, backend $("$TD/venv/bin/traindoc" --version 2>/dev/null || echo 'from PATH')"
    say "Restart Claude Code (or start a new session), then type /ml-training-debugger in a folder with a training run."
fi
