// Package replay is a stand-in for openshift-install, for tests, the demo
// and benchmarks: seen from outside it behaves like the installer, but
// instead of installing anything it replays a recorded real run (a
// scenario).
//
// It parses --dir (both forms, default ".") and --log-level, rejects other
// flags as the installer does, and
//
//   - `version` prints what the real binary prints (stdout), with the
//     scenario's version string;
//   - `create <target>`, `wait-for <target>` and `destroy cluster` create
//     --dir if needed and append the scenario's recorded log to
//     <dir>/.openshift_install.log with time compressed: the sleep between two
//     lines is the recorded gap divided by the speed factor (capped at one
//     second), while the written timestamps keep the recorded gaps, shifted
//     so that the run starts now (stage durations read from the log equal the
//     recorded ones). Lines at or above --log-level go to stderr as the
//     installer prints them through a pipe (`level=info msg=...`) or on a
//     terminal (`INFO ...`). Asset files are created and deleted at the
//     recorded points, from the recorded state file. The exit code is the
//     recorded one;
//   - signals: for 4.16 and later (and development builds) the first SIGINT
//     or SIGTERM logs `Received interrupt signal` (file and stderr), stops the
//     replay, waits for a short "teardown" and exits 8; a second one exits 1
//     at once. Older versions die by the signal, as they did. SIGHUP and
//     SIGQUIT end the process with Go's default action.
//
// Environment:
//
//	OPENSHIFT_INSTALL_REPLAY_SCENARIO    scenario name or path to a scenario JSON file; it is used for the
//	                                     command it records, other commands use their default scenario
//	OPENSHIFT_INSTALL_REPLAY_SPEED       time compression factor (default 1000; "inf" for no sleeping)
//	OPENSHIFT_INSTALL_REPLAY_VERSION     version string instead of the scenario's
//	OPENSHIFT_INSTALL_REPLAY_TEARDOWN    how long the 4.16+ interrupt teardown takes (default 250ms)
//	OPENSHIFT_INSTALL_REPLAY_SIGNAL_LOG  file to which the name of every signal received is appended
//	OPENSHIFT_INSTALL_REPLAY_READY       file written (with our pid) once the signal handlers are in place
//
// The scenarios, logs and state files are embedded (testdata/, see its
// README for where each comes from), so the binary works from any directory.
// No shell is involved anywhere.
package replay
