// Package stages reads openshift-install log lines and learns from them what
// one installer run did: the installer version, the timeline of the five
// stages of docs/metrics-schema.md (provisioning, infrastructure, api,
// bootstrap, operators) and the result class with the line that decided it.
//
// It knows log lines and nothing about processes or Prometheus. The pieces:
//
//   - ReadLines splits any io.Reader into lines with bounded memory: a line
//     longer than maxLine is cut, the rest of it skipped without buffering.
//   - A Tracker is fed one raw line at a time, in any format people meet: the
//     log file (logfmt with time=, level=, msg=), the pipe (level=info msg=...,
//     quoted before 4.7), the terminal (INFO/WARNING/ERROR/FATAL/DEBUG, padded,
//     maybe coloured) and pasted output with CI prefixes, indentation and
//     hard-wrapped lines. Summary turns what it learnt, and the installer's
//     exit status if known, into a Summary.
//   - Follow tails <dir>/.openshift_install.log from the offset it had before
//     the installer started, and Offset measures that offset. Once the run
//     is over it reads what is left, at most the last FinalTail bytes, so a
//     huge log written at the end costs no unbounded time.
//   - Classify does ReadLines and Summary in one call for a whole log.
//
// # Rules
//
// The rules come from the installer's own messages (docs/installer.md,
// sections 3 to 5, and openshift/installer cmd/openshift-install,
// pkg/asset/cluster, pkg/infrastructure/clusterapi), not from sample files.
//
// The log is appended to across runs; a new "OpenShift Installer <version>"
// header starts a new run and forgets the previous one, except the header that
// `create cluster` writes again before its wait phase (same version, while
// infrastructure is being created and nothing has ended the run).
//
// The result follows this precedence:
//
//  1. death by a signal, or an exit code 128+N: Interrupted;
//  2. exit code 0: Success;
//  3. an exit code the installer version makes specific (3..6 from 4.11, 7
//     from 4.15, 8 from 4.16; any version when the version is unknown):
//     3 InvalidConfig, 4 ProvisioningFailed, 5 APIFailed or BootstrapFailed
//     (BootstrapFailed once "API ... up" was logged), 6 and 7
//     OperatorsDegraded, 8 Interrupted;
//  4. the log: "Received interrupt signal"; else the most recent failure line
//     whose text names the failure (e.g. "failed to create cluster",
//     "waiting for Kubernetes API", "failed to initialize the cluster");
//     else a fatal line, or a line the installer only logs after a failed
//     wait, judged by the stage in progress (provisioning: InvalidConfig,
//     infrastructure: ProvisioningFailed, api: APIFailed, bootstrap:
//     BootstrapFailed, operators: OperatorsDegraded, none: Failed);
//  5. without an exit code, a success line of the command ("Install
//     complete!", "It is now safe to remove the bootstrap resources",
//     "Uninstallation complete!", "<Target> created in: ...", "Time elapsed:",
//     and "Bootstrap gather logs captured here" of `gather bootstrap`) that no
//     failure line followed: Success;
//  6. otherwise: with a known non-zero exit code, the stage in progress
//     decides (none or provisioning: Failed); without an exit code the log
//     simply stops, and a log that stops is never Success: it is Interrupted
//     (the run was killed, or is still going), or Failed when not one
//     installer line was recognised.
//
// # Stages
//
// Stages are cut by the installer's lines and timed with the log's own
// timestamps (a CI prefix's timestamp where the line has none; the injected
// clock where there is neither, and Summary.Timed is then false). A stage that was entered but not finished
// ends at the deciding failure line, else at the last line. Logs that start
// mid-way (wait-for, pasted tails) open the stage a line proves to be in
// progress ("Still waiting for the cluster to initialize", "API v1.x up", a
// failure naming its stage) at the first line of the run. The provisioning
// stage is entered when the run shows asset generation ("Consuming ... from
// target directory", "<Target> created in:", lines before infrastructure
// creation, or an asset or install-config failure), so `wait-for` and
// `destroy` runs have none.
//
// Failure lines logged before the run made progress (a new stage, "API ...
// up", a success line) did not end it and are forgotten. An unrecognised line
// right after an error or fatal line is taken as its hard-wrapped rest (up to
// four lines). Deciding lines are redacted: the console login line, values of
// password, token, secret, auth and pull-secret keys, "-p <password>", bearer
// and sha256~ tokens and URL passwords never reach a Summary.
package stages
