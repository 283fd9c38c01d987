package modification

import (
	"encoding/json"

	"gopkg.in/yaml.v3"

	"github.com/install-metrics/install-metrics/pkg/installer"
)

// pullSecretHost is the registry whose auth is the telemetry credential.
const pullSecretHost = "cloud.openshift.com"

// installConfigFacts reads the platform and the pull-secret token from
// install-config.yaml; "" for what it does not find. Parse errors are
// dropped: their text may quote the file.
func installConfigFacts(data []byte) (platform, token string) {
	if data == nil {
		return "", ""
	}
	defer func() { // as in pending.equal: a parser panic is no platform
		if recover() != nil {
			platform, token = "", ""
		}
	}()
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return "", ""
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return "", ""
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "platform":
			if v.Kind == yaml.MappingNode {
				var names []string
				for j := 0; j+1 < len(v.Content); j += 2 {
					if v.Content[j+1].Tag != "!!null" {
						names = append(names, v.Content[j].Value)
					}
				}
				platform = onePlatform(names)
			}
		case "pullSecret":
			if v.Kind == yaml.ScalarNode {
				token = pullSecretToken(v.Value)
			}
		}
	}
	return platform, token
}

// stateConfigFacts reads the same from the state file's copy of the install
// config (JSON).
func stateConfigFacts(raw []byte) (platform, token string) {
	if len(raw) == 0 || len(raw) > 16<<20 {
		return "", ""
	}
	var c struct {
		Platform   map[string]json.RawMessage `json:"platform"`
		PullSecret string                     `json:"pullSecret"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return "", ""
	}
	var names []string
	for k, v := range c.Platform {
		if string(v) != "null" {
			names = append(names, k)
		}
	}
	return onePlatform(names), pullSecretToken(c.PullSecret)
}

// metadataPlatform reads metadata.json, where the platform is a top-level key
// (absent for none and external).
func metadataPlatform(data []byte) string {
	var m map[string]json.RawMessage
	if data == nil || json.Unmarshal(data, &m) != nil {
		return ""
	}
	var names []string
	for k, v := range m {
		if installer.NormalizePlatform(k) != installer.UnknownPlatform && string(v) != "null" {
			names = append(names, k)
		}
	}
	return onePlatform(names)
}

// onePlatform is the platform when exactly one is named, else "".
func onePlatform(names []string) string {
	if len(names) != 1 {
		return ""
	}
	if p := installer.NormalizePlatform(names[0]); p != installer.UnknownPlatform {
		return p
	}
	return ""
}

// pullSecretToken returns the cloud.openshift.com auth of a pull secret.
func pullSecretToken(ps string) string {
	var s struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if ps == "" || json.Unmarshal([]byte(ps), &s) != nil {
		return ""
	}
	return s.Auths[pullSecretHost].Auth
}
