package cli

import "testing"

// OpenShift CI sets OPENSHIFT_INSTALL_INVOKER for the installer
// (docs/installer.md section 15): it is a CI signal, only read.
func TestDetectCIInvoker(t *testing.T) {
	env := map[string]string{"OPENSHIFT_INSTALL_INVOKER": "openshift-internal-ci/periodic-ci-x/1234"}
	if !detectCI(envOf(env)) {
		t.Error("OPENSHIFT_INSTALL_INVOKER set: want ci")
	}
	if env["OPENSHIFT_INSTALL_INVOKER"] != "openshift-internal-ci/periodic-ci-x/1234" || len(env) != 1 {
		t.Errorf("the environment changed: %v", env)
	}
	if detectCI(envOf(map[string]string{"OPENSHIFT_INSTALL_INVOKER": ""})) {
		t.Error("an empty OPENSHIFT_INSTALL_INVOKER is no CI")
	}
}
