# Sourced by scripts/aarch64-insns.sh and scripts/aarch64-decoder-insns.sh.
# insn_plugin SYSROOT WORKDIR PROGRAM ARGS...: builds benches/aarch64/insn_count.c for the plugin
# API this qemu-aarch64 accepts (Debian 12's qemu 7.2 takes 1; newer ones more), checked by
# running PROGRAM ARGS under it; prints the plugin's path.
insn_plugin() {
  local root=$1 work=$2 v
  shift 2
  for v in 4 3 2 1; do
    gcc -O2 -shared -fPIC -fvisibility=hidden -DPLUGIN_API_VERSION=$v \
      -o "$work/insn$v.so" benches/aarch64/insn_count.c
    if qemu-aarch64 -L "$root" -plugin "$work/insn$v.so,out=$work/probe" "$@" >/dev/null 2>&1; then
      echo "$work/insn$v.so"
      return 0
    fi
  done
  echo "qemu-aarch64 loads none of the plugin API versions 1-4" >&2
  return 1
}
