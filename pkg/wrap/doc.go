// Package wrap runs openshift-install as a child process exactly as if it had
// been called directly: same argv, same environment, the caller's own stdin,
// stdout and stderr file descriptors (never pipes, so the installer's
// terminal detection, colours and interactive survey keep working), and its
// exit code passed through (128+N after death by signal N).
//
// Signals. The child runs in its own process group. When one of our standard
// streams is our controlling terminal and we are its foreground process
// group, the child's group is made the terminal's foreground (as tini does),
// so Ctrl-C, Ctrl-\ and a hangup reach the installer straight from the
// terminal and never reach us; the terminal is handed back when the child
// exits. Every SIGINT, SIGTERM, SIGHUP or SIGQUIT that we do receive is one
// the child did not get (`kill -TERM <our pid>`, or `kill -TERM -<our pgid>`
// from a CI system), so Run forwards each one exactly once, to the child
// only, and then keeps waiting while the installer cleans up. A second
// signal is forwarded like the first: what it means is the installer's
// choice (4.16+ abandons its teardown and exits 1).
//
// Job control: when the child stops (Ctrl-Z, or a background read from the
// terminal), Run takes the terminal back and stops its own process group
// with the same signal, so the shell sees the job stop; on `fg` or `bg` it
// hands the terminal back if it is in the foreground again and continues the
// child's group.
//
// Limits, inherent to a separate process group: SIGKILL and SIGSTOP sent to
// our process group cannot be forwarded. On Linux the child gets SIGKILL if
// we die first (Pdeathsig, with the starting goroutine locked to its OS
// thread for the whole run, see golang/go#27505), so a `kill -9` of the
// wrapper or of its group ends the installer as it would have without us
// (the installer's own children, in its group, live on, as after a direct
// `kill -9 <installer pid>`); on macOS the child is orphaned and runs to its
// end. Standard
// signals are not queued: two identical signals arriving before either is
// handled count as one, for us as for the installer called directly. A
// terminal hangup may reach the installer twice (from the kernel as the
// foreground group, and from the shell forwarding its SIGHUP to our job); the
// installer's first SIGHUP already ends it.
//
// Opt-out: Exec replaces the current process with the installer
// (execve), reading and writing nothing else.
package wrap
