#!/usr/bin/env bash
# make demo: install-metrics wrapped around the replay installer for a realistic
# `create cluster` (a real 4.16 AWS install log, time compressed), then a failed
# one, then what was recorded. Everything happens in a temporary directory.
set -euo pipefail
im=${1:?usage: demo.sh INSTALL_METRICS_BIN REPLAY_BIN}
replay=${2:?usage: demo.sh INSTALL_METRICS_BIN REPLAY_BIN}

work=$(mktemp -d "${TMPDIR:-/tmp}/install-metrics-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"      # keep the demo's record out of yours
export INSTALL_METRICS_INSTALLER="$replay"
unset INSTALL_METRICS DO_NOT_TRACK INSTALL_METRICS_SINKS

bold=$(tput bold 2>/dev/null || true); reset=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
run() { printf '%s$ %s%s\n' "$bold" "$*" "$reset"; "$@" || printf '(exit code %d)\n' "$?"; }

cd "$work"
mkdir c1 c2
# An install-config as `create install-config` would leave it (the pull secret is fake).
for d in c1 c2; do cat > "$d/install-config.yaml" <<'YAML'
apiVersion: v1
baseDomain: example.com
metadata:
  name: demo
platform:
  aws:
    region: us-east-1
pullSecret: '{"auths":{"cloud.openshift.com":{"auth":"ZGVtbzpkZW1v","email":"demo@example.com"}}}'
YAML
done
sed -i.bak 's/  aws:/  vsphere:/; s/    region: us-east-1/    vCenter: vcenter.example.com/' c2/install-config.yaml && rm c2/install-config.yaml.bak
say "A successful install (AWS, 4.16): the installer's own output, unchanged"
OPENSHIFT_INSTALL_REPLAY_SCENARIO=cluster-success run "$im" --metrics-debug create cluster --dir c1

say "A failed install (vSphere, bootstrap timeout): same exit code as the installer"
OPENSHIFT_INSTALL_REPLAY_SCENARIO=cluster-bootstrap-failed run "$im" create cluster --dir c2

say "What a log of a run that was not wrapped says"
run "$im" metrics classify c2/.openshift_install.log

say "What was recorded on this machine"
run "$im" metrics show
