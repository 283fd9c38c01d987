package cli

import "strings"

// ciVariables are the variables by which CI systems announce themselves. A
// variable counts when it is set to something other than "", "0" or "false".
var ciVariables = []string{
	"CI",                     // GitHub Actions, GitLab, Travis, CircleCI, Buildkite, Prow (since 2021)
	"OPENSHIFT_CI",           // OpenShift CI (Prow)
	"PROW_JOB_ID",            // Prow
	"JENKINS_URL",            // Jenkins
	"GITHUB_ACTIONS",         // GitHub Actions
	"GITLAB_CI",              // GitLab
	"BUILDKITE",              // Buildkite
	"TF_BUILD",               // Azure Pipelines
	"CODEBUILD_BUILD_ID",     // AWS CodeBuild
	"TEAMCITY_VERSION",       // TeamCity
	"BITBUCKET_BUILD_NUMBER", // Bitbucket Pipelines
	"ZUUL_PROJECT",           // Zuul
	// OpenShift CI sets it for the installer, which reports it in the
	// cluster's own telemetry: read here, never set or changed.
	"OPENSHIFT_INSTALL_INVOKER",
}

// detectCI reports whether a CI system is detected from the environment.
func detectCI(getenv Getenv) bool {
	for _, name := range ciVariables {
		if v, ok := getenv(name); ok && truthy(v) {
			return true
		}
	}
	// Jenkins without JENKINS_URL, and Tekton: a build id with a job name.
	if v, ok := getenv("BUILD_ID"); ok && v != "" {
		if j, ok := getenv("JOB_NAME"); ok && j != "" {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}
