#!/bin/sh
# tests/firmware/openwrt_init_test.sh: runs the OpenWrt procd init script against sample UCI configs with recording stand-ins for OpenWrt's shell functions.
#
# Usage: tests/firmware/openwrt_init_test.sh [INIT_SCRIPT]
# The stand-ins follow OpenWrt's /lib/functions.sh (config_load, config_get,
# config_get_bool) and /lib/functions/procd.sh (procd_open_instance, ...), but
# instead of talking to ubus they append one line per call to a transcript,
# each argument in [brackets] so word boundaries show. Each case sources the
# init script in a subshell, runs one entry point and compares the transcript
# with the exact expected one. `postern set` calls go to a fake postern that
# records its arguments. Ends with "N passed, M failed"; exits 1 on a failure.

here=$(cd "$(dirname "$0")" && pwd)
init=${1:-$here/../../firmware/openwrt/files/postern.init}
shipped_config=$here/../../firmware/openwrt/files/postern.config
[ -r "$init" ] || { echo "no init script at $init" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fake=$work/bin/postern
mkdir -p "$work/bin" "$work/config"
cat >"$fake" <<'EOF'
#!/bin/sh
# Fake postern: records its argv; `set` fails for the value "fail".
line=
for arg in "$@"; do line="${line}[$arg]"; done
echo "postern $line" >>"$TRANSCRIPT"
[ "$3" != fail ]
EOF
chmod +x "$fake"

passed=0
failed=0

# --- stand-ins for OpenWrt's shell library ----------------------------------------
record() { # NAME ARGS...: one transcript line, each argument bracketed
  name=$1
  shift
  line=
  for arg in "$@"; do line="${line}[$arg]"; done
  echo "$name $line" >>"$TRANSCRIPT"
}

# UCI as /lib/functions.sh stores it: CONFIG_<section>_<option>.
config_load() {
  record config_load "$@"
  section=
  while read -r keyword name value; do
    case "$keyword" in
      config)
        section=$(echo "$value" | tr -d "'\"")
        ;;
      option)
        value=$(echo "$value" | sed "s/^'\\(.*\\)'\$/\\1/; s/^\"\\(.*\\)\"\$/\\1/")
        eval "CONFIG_${section}_${name}=\$value"
        ;;
    esac
  done <"$UCI_CONFIG_DIR/$1"
}
config_get() { # VAR SECTION OPTION [DEFAULT]
  eval "_set=\${CONFIG_${2}_${3}+x}"
  if [ -n "$_set" ]; then eval "$1=\$CONFIG_${2}_${3}"; else eval "$1=\${4:-}"; fi
}
config_get_bool() { # VAR SECTION OPTION [DEFAULT]: 1/0 from UCI's boolean spellings
  _bool=
  config_get _bool "$2" "$3" "${4:-0}"
  case "$_bool" in
    1 | on | true | yes | enabled) eval "$1=1" ;;
    0 | off | false | no | disabled) eval "$1=0" ;;
    *) eval "$1=\${4:-0}" ;;
  esac
}
procd_open_instance() { record procd_open_instance "$@"; }
procd_set_param() { record procd_set_param "$@"; }
procd_append_param() { record procd_append_param "$@"; }
procd_close_instance() { record procd_close_instance "$@"; }
procd_add_reload_trigger() { record procd_add_reload_trigger "$@"; }
procd_send_signal() { record procd_send_signal "$@"; }
rc_procd() { "$@"; }

# --- cases ---------------------------------------------------------------------
# run_case NAME CONFIG_TEXT ENTRY EXPECTED: sources the init, runs ENTRY, compares.
run_case() {
  name=$1
  printf '%s\n' "$2" >"$work/config/postern"
  TRANSCRIPT=$work/transcript
  export TRANSCRIPT
  : >"$TRANSCRIPT"
  (
    UCI_CONFIG_DIR=$work/config
    # shellcheck source=/dev/null
    . "$init"
    [ "$PROG" = /usr/bin/postern ] || echo "PROG is $PROG, not /usr/bin/postern" >>"$TRANSCRIPT"
    PROG=$fake
    $3
  ) 2>"$work/stderr"
  printf '%s\n' "$4" | sed "s|FAKE|$fake|g" >"$work/expected"
  if [ -n "$5" ]; then
    grep -q "$5" "$work/stderr" || echo "stderr lacks: $5" >>"$TRANSCRIPT"
  fi
  if diff -u "$work/expected" "$TRANSCRIPT" >"$work/diff"; then
    passed=$((passed + 1))
    echo "PASS: $name"
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
    cat "$work/diff"
    cat "$work/stderr"
  fi
}

run_case "the shipped config starts the router board on the flash overlay" \
  "$(cat "$shipped_config")" start_service \
  "config_load [postern]
procd_open_instance 
procd_set_param [command][FAKE][serve][--board][router-mips64][--data][/overlay/postern]
procd_set_param [file][/etc/config/postern]
procd_set_param [respawn][3600][5][5]
procd_set_param [term_timeout][15]
procd_set_param [stdout][1]
procd_set_param [stderr][1]
procd_close_instance "

run_case "board and data folder from UCI reach the command line; pinned ports are saved first" \
  "config postern 'main'
	option enabled '1'
	option board 'nas-arm128'
	option data_dir '/mnt/sda1/mail store'
	option smtp_port '2525'
	option http_port '8081'" start_service \
  "config_load [postern]
postern [set][smtp_port][2525][--board][nas-arm128][--data][/mnt/sda1/mail store]
postern [set][http_port][8081][--board][nas-arm128][--data][/mnt/sda1/mail store]
procd_open_instance 
procd_set_param [command][FAKE][serve][--board][nas-arm128][--data][/mnt/sda1/mail store]
procd_set_param [file][/etc/config/postern]
procd_set_param [respawn][3600][5][5]
procd_set_param [term_timeout][15]
procd_set_param [stdout][1]
procd_set_param [stderr][1]
procd_close_instance "

run_case "an empty section falls back to the router board's defaults" \
  "config postern 'main'" start_service \
  "config_load [postern]
procd_open_instance 
procd_set_param [command][FAKE][serve][--board][router-mips64][--data][/overlay/postern]
procd_set_param [file][/etc/config/postern]
procd_set_param [respawn][3600][5][5]
procd_set_param [term_timeout][15]
procd_set_param [stdout][1]
procd_set_param [stderr][1]
procd_close_instance "

run_case "enabled '0' starts nothing and saves nothing" \
  "config postern 'main'
	option enabled '0'
	option smtp_port '25'" start_service \
  "config_load [postern]"

run_case "a port postern refuses is reported and postern still starts" \
  "config postern 'main'
	option pop3_port 'fail'" start_service \
  "config_load [postern]
postern [set][pop3_port][fail][--board][router-mips64][--data][/overlay/postern]
procd_open_instance 
procd_set_param [command][FAKE][serve][--board][router-mips64][--data][/overlay/postern]
procd_set_param [file][/etc/config/postern]
procd_set_param [respawn][3600][5][5]
procd_set_param [term_timeout][15]
procd_set_param [stdout][1]
procd_set_param [stderr][1]
procd_close_instance " \
  "cannot save pop3_port=fail"

run_case "a commit to /etc/config/postern triggers a reload" \
  "config postern 'main'" service_triggers \
  "procd_add_reload_trigger [postern]"

run_case "reload re-evaluates the instance, then sends postern SIGHUP" \
  "config postern 'main'
	option enabled 'no'" reload_service \
  "config_load [postern]
procd_send_signal [postern]"

echo "openwrt_init_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
