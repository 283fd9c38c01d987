// Package modification finds which installer-generated assets the user
// changed before an openshift-install command consumed them
// (docs/metrics-schema.md, cluster_installation_modification).
//
// The installer deletes the files it consumes and then overwrites its state
// file with what it used, so the evidence exists only before it runs: Take
// reads, on the installer's start-up path, install-config.yaml, the state file
// .openshift_install_state.json, the files under manifests/, openshift/ and
// cluster-api/, and the ignition configs, and compares each file the installer
// generated with the version it keeps in the state file (docs/installer.md
// sections 9 and 10). Bytes are compared first, in memory; only the few files
// whose bytes differ are kept, and compared as data (YAML, JSON; ignition
// configs are JSON) when Modified is first called, after the installer started.
//
// Which version counts as generated: the installer rewrites the state with
// what it used, so after it consumed an edited manifest *manifests.Manifests
// holds the edit (real run 04), while the assets whose files Manifests copies
// verbatim (*manifests.Scheduler, *manifests.DNS, ...) keep the original. Those
// copies win; the target entry (*manifests.Manifests, *manifests.Openshift,
// *machines.*, *bootstrap.Bootstrap, *machine.*) is used for the files only it
// holds. install-config.yaml is compared with the state's `file`, where keys the
// user left out count as the installer's defaults.
//
// Label values come from a closed set: generated paths (the infrastructure ID,
// which starts with the cluster name, replaced by "<infraID>"), "user-added"
// for a file the installer never generated but reads (*.yaml, *.yml, *.json in
// manifests/, openshift/, cluster-api/, cluster-api/machines/; the four
// ignition configs), and "user-removed" for a file `create manifests` wrote
// that is gone while the state shows no later command consumed it. A name the
// user chose never becomes a label. Symbolic links are never followed.
//
// Nothing is reported without a usable state file: missing, larger than the
// cap, truncated, not JSON, shaped unlike any installer's, or holding data that
// is not base64 all mean "nothing to compare with", with at most one warning.
//
// The same snapshot gives the platform label and, in memory only, the pull
// secret's cloud.openshift.com token. The package knows the asset directory
// and the state file, nothing else: no processes, no log, no metrics.
package modification
