package installer

// The installer's exit codes (docs/installer.md section 5,
// cmd/openshift-install/create.go). Codes 3..8 are specific only from 4.11
// (4.15 for 7, 4.16 for 8); before that every failure is 1.
const (
	ExitOK                    = 0
	ExitFatal                 = 1
	ExitPanic                 = 2
	ExitInstallConfigError    = 3
	ExitInfrastructureFailed  = 4
	ExitBootstrapFailed       = 5
	ExitInstallFailed         = 6
	ExitOperatorStabilityFail = 7
	ExitInterrupt             = 8
)

// Exit codes install-metrics itself uses, like a shell's; none collides with
// the installer's 3..8.
const (
	ExitUsage         = 2   // bad metrics flag; the installer was not started
	ExitNotExecutable = 126 // the installer exists but cannot be executed
	ExitNotFound      = 127 // no installer found
)
