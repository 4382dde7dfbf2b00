# shellcheck shell=bash
# Sourced by scripts/run and scripts/serve (bash): a state directory is
# used only when nobody but the user running them (and root) can change
# what is in it, and serve's files there are written without following
# links.  Otherwise a local user who pre-creates the directory (say under
# /tmp) plants run/check-release.sh, which the service runs, and gets the
# rights of whoever runs serve (docs/DESIGN.md "Security").
#
#   cd_check_state_dir WHO DIR  checks DIR (which may not exist yet) and
#                               its ancestors; 1 with the reason on stderr
#   cd_make_state_dir WHO DIR   the same, creates DIR (0700) when missing,
#                               checks again and prints its real path
#   cd_make_subdir WHO DIR      DIR (in a checked directory): created
#                               0700 when missing, else it must be ours
#   cd_write_file FILE MODE     stdin to FILE: a new mktemp file beside
#                               it, renamed over FILE (a link or a file
#                               planted there is replaced, never followed)

# "UID MODE TYPE" of a path, not following a link (octal mode).
cd_stat_l() {
    stat -c '%u %a %F' -- "$1" 2>/dev/null
}

# cd_dir_refusal WHO TEXT: the one refusal message.
cd_dir_refusal() {
    printf '%s: refusing the state directory: %s.\n' "$1" "$2" >&2
    printf '%s: whoever can change it can make %s run their programs; use\n' \
        "$1" "$(id -un)" >&2
    printf '%s: a directory that only you can write (CERTDIALOG_STATE).\n' \
        "$1" >&2
}

# The owner as a name when there is one.
cd_owner_name() {
    getent passwd "$1" 2>/dev/null | cut -d: -f1 | grep . || echo "uid $1"
}

# cd_check_own WHO PATH: PATH is a directory of ours (not a link)
# that neither group nor others can write.
cd_check_own() {
    local who=$1 p=$2 uid mode type me
    me=$(id -u)
    read -r uid mode type <<<"$(cd_stat_l "$p")"
    if [ -z "$mode" ]; then
        cd_dir_refusal "$who" "$p cannot be examined"
        return 1
    fi
    if [ "$type" != directory ]; then
        cd_dir_refusal "$who" "$p is a $type, not a directory"
        return 1
    fi
    if [ "$uid" != "$me" ]; then
        cd_dir_refusal "$who" \
            "$p belongs to $(cd_owner_name "$uid"), not to $(id -un)"
        return 1
    fi
    if (( 8#$mode & 8#022 )); then
        cd_dir_refusal "$who" \
            "$p is writable by its group or others (mode $mode)"
        return 1
    fi
}

# cd_check_state_dir WHO DIR
cd_check_state_dir() {
    local who=$1 dir=$2 me p rest comp real uid mode type
    me=$(id -u)
    case $dir in
    /*) ;;
    *) dir=$PWD/$dir ;;
    esac
    # A link on the way counts as its owner's: another user's could be
    # turned elsewhere between this check and the use.
    p=
    rest=${dir#/}
    while [ -n "$rest" ]; do
        comp=${rest%%/*}
        [ "$comp" = "$rest" ] && rest= || rest=${rest#*/}
        [ -n "$comp" ] || continue
        p=$p/$comp
        if [ -L "$p" ]; then
            read -r uid mode type <<<"$(cd_stat_l "$p")"
            if [ "$uid" != 0 ] && [ "$uid" != "$me" ]; then
                cd_dir_refusal "$who" \
                    "$p, on its path, is a link owned by $(cd_owner_name "$uid")"
                return 1
            fi
        fi
    done
    real=$(realpath -m -- "$dir") ||
        { cd_dir_refusal "$who" "$dir cannot be resolved"; return 1; }
    # Every directory above it: root's or ours, and writable by nobody
    # else unless sticky (as /tmp: others cannot rename or remove our
    # entries there).
    p=$real
    while [ "$p" != / ]; do
        p=$(dirname -- "$p")
        [ -e "$p" ] || continue
        read -r uid mode type <<<"$(cd_stat_l "$p")"
        if [ -z "$mode" ]; then
            cd_dir_refusal "$who" "its parent $p cannot be examined"
            return 1
        fi
        if [ "$uid" != 0 ] && [ "$uid" != "$me" ]; then
            cd_dir_refusal "$who" \
                "its parent $p belongs to $(cd_owner_name "$uid")"
            return 1
        fi
        if (( 8#$mode & 8#022 )) && ! (( 8#$mode & 8#1000 )); then
            cd_dir_refusal "$who" "its parent $p is writable by its group or others and not sticky (mode $mode)"
            return 1
        fi
    done
    if [ -e "$real" ]; then
        cd_check_own "$who" "$real" || return 1
    fi
}

# cd_make_state_dir WHO DIR: prints the real path.
cd_make_state_dir() {
    local who=$1 dir=$2
    cd_check_state_dir "$who" "$dir" || return 1
    if [ ! -e "$dir" ]; then
        (umask 077 && mkdir -p -- "$dir") ||
            { echo "$who: cannot create $dir" >&2; return 1; }
    fi
    # again, now that it exists: another user may have made it meanwhile
    cd_check_state_dir "$who" "$dir" || return 1
    realpath -e -- "$dir"
}

# cd_make_subdir WHO DIR
cd_make_subdir() {
    local who=$1 dir=$2
    if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
        mkdir -m 0700 -- "$dir" 2>/dev/null || true
    fi
    cd_check_own "$who" "$dir"
}

# cd_write_file FILE MODE < content
cd_write_file() {
    local dest=$1 mode=$2 t
    t=$(mktemp "$(dirname -- "$dest")/.new.XXXXXXXX") || return 1
    if ! { cat >"$t" && chmod "$mode" "$t" && mv -fT -- "$t" "$dest"; }; then
        rm -f -- "$t"
        return 1
    fi
}
