// Package modification finds which installer-generated assets the user
// changed before an openshift-install command consumed them
// (docs/metrics-schema.md, cluster_installation_modification).
//
// The installer deletes the files it consumes and then overwrites its state
// file with what it used, so the evidence exists only before it runs: Take
// records, on the installer's start-up path, what the asset directory holds
// and compares each generated file with the version the installer wrote into
// .openshift_install_state.json (docs/installer.md sections 9 and 10). Bytes
// are compared first; only files whose bytes differ are kept, and compared as
// data (YAML and JSON) when Modified is first called.
//
// The same snapshot gives the platform label and, in memory only, the pull
// secret's cloud.openshift.com token. The package knows the asset directory
// and the state file, nothing else: no processes, no log, no metrics.
package modification
