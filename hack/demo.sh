#!/usr/bin/env bash
# make demo: install-metrics wrapped around the replay installer for a realistic
# `create cluster` (a real 4.16 AWS install log, time compressed), a failed one
# (vSphere 4.7, bootstrap timeout), a user-provisioned flow with an edited
# manifest, a log classified after the fact, and what was recorded. Everything
# happens in a temporary directory with its own XDG_STATE_HOME.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
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

say "User-provisioned: create manifests, edit one, create ignition-configs (which consumes them)"
mkdir c3 && cp "$root/testdata/installer-real/install-config.input.yaml" c3/install-config.yaml
run "$im" create manifests --dir c3
sed -i.bak 's/mastersSchedulable: true/mastersSchedulable: false/' c3/manifests/cluster-scheduler-02-config.yml && rm c3/manifests/*.bak
printf '%s\n' '$ sed -i s/mastersSchedulable: true/mastersSchedulable: false/ c3/manifests/cluster-scheduler-02-config.yml'
run "$im" create ignition-configs --dir c3

say "What a log of a run that was not wrapped says"
run "$im" metrics classify c2/.openshift_install.log

say "What was recorded on this machine"
run "$im" metrics show
