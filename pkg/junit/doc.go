// Package junit writes the JUnit XML report of one installer invocation
// (--metrics-junit, `metrics classify --junit`), in the shape OpenShift CI
// gives its junit_install.xml, so that Prow's Spyglass, Sippy, Jenkins,
// GitLab and the GitHub Actions reporters read it at once.
//
// # Cluster installs
//
// `create cluster`, `wait-for …` and `agent wait-for …` make one
// <testsuite name="cluster install"> with OpenShift CI's cases in its order:
//
//	install should succeed: other
//	install should succeed: configuration
//	install should succeed: infrastructure
//	install should succeed: cluster bootstrap
//	install should succeed: cluster creation
//	install should succeed: cluster operator stability
//	install should succeed: overall
//
// The failed case comes from the result class, not from the exit code, so
// that 4.2–4.10 runs (every failure exits 1) name the right stage too:
//
//	InvalidConfig            configuration
//	ProvisioningFailed       infrastructure
//	APIFailed, BootstrapFailed  cluster bootstrap (CI's exit 5 covers both)
//	OperatorsDegraded        cluster creation; cluster operator stability when
//	                         the operators were available but not stable: exit
//	                         code 7, or the deciding line "These cluster
//	                         operators were not stable"
//	Interrupted, Failed      other
//
// The cases before the failed one pass, the ones after it are skipped
// ("not reached"); overall fails with it. When "other" failed, the stage
// cases whose stages finished pass, the one the run ended in is skipped
// ("not finished") and the later ones are skipped ("not reached"). On
// success every case passes.
//
// Each case's time is the sum of the durations of the stages it covers (0
// where unknown, never absent):
//
//	configuration   provisioning; agent: rendezvous, validation
//	infrastructure  infrastructure; agent: preparation
//	cluster bootstrap  api, bootstrap
//	cluster creation   operators
//	cluster operator stability, other  0 (no stage of their own)
//	overall         the wall time (classify: first stage start to last end)
//
// The agent stages map by what fails in them: rendezvous and validation
// check that the hosts and the agent/install config agree (a wrong
// rendezvous IP, MAC addresses, failed host or cluster validations are
// configuration errors, and the hosts are the user's own, already there);
// preparation writes the image to the hosts' disks (the agent's
// infrastructure step); bootstrap and operators are shared with IPI.
//
// The failure message is the result class; its text the deciding line,
// already redacted by pkg/stages. The classname is "openshift-install"
// and the command's words, from closed sets. system-out is the stage
// timeline (pkg/timeline).
//
// # Other commands
//
// One suite named after the command ("create manifests", "destroy
// cluster", …), with one case "<command> should succeed".
//
// # Retries
//
// Writing to a PATH that holds an earlier report keeps what CI needs to see
// a flake, the way OpenShift CI encodes one (a success after an exit-4
// retry gets a second, failing infrastructure case): the new run's cases
// come first, in CI's order, then every earlier failed case of the same
// suite except its overall (overall says how the job's install ended).
// Earlier passed and skipped cases are superseded; other suites in the file
// are kept as they were. A file that is not JUnit XML (or is larger than
// MaxExisting) is moved aside to PATH.corrupt and a new report written.
//
// Writes are atomic: a temporary file in PATH's directory, fsync, rename; runs
// writing reports in one directory at the same moment take turns under an
// flock of the directory itself (no lock file among the CI artifacts),
// waiting at most LockWait.
// A failure leaves the earlier file (if any) as it was and no temporary file.
package junit
